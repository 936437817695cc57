# ruff: noqa: RUF001  (translations use typographic apostrophes and dashes)
"""The page's words in English, French and German, and dates in each (locale prefix strategy ``as-needed``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

LOCALE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "status.operational": "All Systems Operational",
        "status.degraded": "Degraded Performance",
        "status.partial_outage": "Partial Outage",
        "status.major_outage": "Major Outage",
        "status.maintenance": "Under Maintenance",
        "status.unknown": "Status Unknown",
        "component.success": "Operational",
        "component.degraded": "Degraded",
        "component.error": "Downtime",
        "component.info": "Maintenance",
        "component.empty": "No data",
        "report.investigating": "Investigating",
        "report.identified": "Identified",
        "report.monitoring": "Monitoring",
        "report.resolved": "Resolved",
        "skip": "Skip to content",
        "nav.status": "Status",
        "nav.events": "Events",
        "nav.monitors": "Monitors",
        "active_reports": "Ongoing incidents",
        "upcoming_maintenance": "Scheduled maintenance",
        "ongoing_maintenance": "Maintenance in progress",
        "past_events": "Past events",
        "older_events": "Older events",
        "no_events": "No incidents or maintenance reported.",
        "uptime": "uptime",
        "days_ago": "{n} days ago",
        "today": "Today",
        "no_data": "No data",
        "checks": "{success} ok, {degraded} degraded, {error} failed",
        "downtime_for": "Downtime {duration}",
        "degraded_for": "Degraded {duration}",
        "maintenance_for": "Maintenance {duration}",
        "affected": "Affected",
        "down_since": "Outage since",
        "from_to": "{start} – {end}",
        "subscribe": "Subscribe to updates",
        "subscribe.email": "Email address",
        "subscribe.button": "Subscribe",
        "subscribe.sent": "Check your inbox to confirm your subscription.",
        "subscribe.confirmed": "You are subscribed to updates.",
        "subscribe.unsubscribed": "You will no longer receive updates.",
        "subscribe.invalid": "That link is not valid any more.",
        "subscribe.bad_email": "Please enter a valid email address.",
        "subscribe.confirm_prompt": "Confirm your subscription to updates from this page.",
        "subscribe.confirm_button": "Confirm subscription",
        "subscribe.unsubscribe_prompt": "Stop receiving updates from this page?",
        "subscribe.unsubscribe_button": "Unsubscribe",
        "powered_by": "powered by openstatus.dev",
        "stale": "This page could not be refreshed; it shows the last known status.",
        "contact": "Contact",
        "homepage": "Website",
        "theme": "Theme",
        "theme.light": "Light",
        "theme.dark": "Dark",
        "theme.system": "System",
        "language": "Language",
        "back": "Back",
        "response_time": "Response time",
        "no_public_monitors": "No public monitors.",
        "login.title": "This page is protected",
        "login.password": "Password",
        "login.submit": "Continue",
        "login.wrong": "Wrong password.",
        "login.too_many": "Too many attempts. Try again in a minute.",
        "login.email": "Work email",
        "login.email_submit": "Send me a link",
        "login.email_sent": "If that address may see this page, a sign-in link is on its way.",
        "login.bad_domain": "This email domain has no access to this page.",
        "login.expired": "This sign-in link has expired. Ask for a new one.",
        "login.send_failed": "The sign-in mail could not be sent. Please try again later.",
        "magic.subject": "Sign in to {title}",
        "magic.intro": "Follow this link to see the status page {title}:",
        "magic.link": "Sign in to {title}",
        "magic.note": "It works for 15 minutes. If you did not ask for it, ignore this message.",
        "restricted.title": "Access Restricted",
        "restricted.body": "This status page is only available from approved networks.",
        "not_found": "Not found",
        "bad_request": "Bad request",
        "updated": "Updated {when}",
    },
    "fr": {
        "status.operational": "Tous les systèmes sont opérationnels",
        "status.degraded": "Performances dégradées",
        "status.partial_outage": "Panne partielle",
        "status.major_outage": "Panne majeure",
        "status.maintenance": "Maintenance en cours",
        "status.unknown": "Statut inconnu",
        "component.success": "Opérationnel",
        "component.degraded": "Dégradé",
        "component.error": "Panne",
        "component.info": "Maintenance",
        "component.empty": "Aucune donnée",
        "report.investigating": "Enquête en cours",
        "report.identified": "Identifié",
        "report.monitoring": "Surveillance",
        "report.resolved": "Résolu",
        "skip": "Aller au contenu",
        "nav.status": "Statut",
        "nav.events": "Événements",
        "nav.monitors": "Moniteurs",
        "active_reports": "Incidents en cours",
        "upcoming_maintenance": "Maintenance planifiée",
        "ongoing_maintenance": "Maintenance en cours",
        "past_events": "Événements passés",
        "older_events": "Événements plus anciens",
        "no_events": "Aucun incident ni maintenance signalé.",
        "uptime": "disponibilité",
        "days_ago": "il y a {n} jours",
        "today": "Aujourd’hui",
        "no_data": "Aucune donnée",
        "checks": "{success} ok, {degraded} dégradés, {error} en échec",
        "downtime_for": "Panne {duration}",
        "degraded_for": "Dégradé {duration}",
        "maintenance_for": "Maintenance {duration}",
        "affected": "Concernés",
        "down_since": "En panne depuis le",
        "from_to": "{start} – {end}",
        "subscribe": "S’abonner aux mises à jour",
        "subscribe.email": "Adresse e-mail",
        "subscribe.button": "S’abonner",
        "subscribe.sent": "Consultez votre boîte mail pour confirmer votre abonnement.",
        "subscribe.confirmed": "Vous êtes abonné aux mises à jour.",
        "subscribe.unsubscribed": "Vous ne recevrez plus de mises à jour.",
        "subscribe.invalid": "Ce lien n’est plus valide.",
        "subscribe.bad_email": "Veuillez saisir une adresse e-mail valide.",
        "subscribe.confirm_prompt": "Confirmez votre abonnement aux mises à jour de cette page.",
        "subscribe.confirm_button": "Confirmer l’abonnement",
        "subscribe.unsubscribe_prompt": "Ne plus recevoir les mises à jour de cette page ?",
        "subscribe.unsubscribe_button": "Se désabonner",
        "powered_by": "propulsé par openstatus.dev",
        "stale": "Cette page n’a pas pu être actualisée ; elle affiche le dernier statut connu.",
        "contact": "Contact",
        "homepage": "Site web",
        "theme": "Thème",
        "theme.light": "Clair",
        "theme.dark": "Sombre",
        "theme.system": "Système",
        "language": "Langue",
        "back": "Retour",
        "response_time": "Temps de réponse",
        "no_public_monitors": "Aucun moniteur public.",
        "login.title": "Cette page est protégée",
        "login.password": "Mot de passe",
        "login.submit": "Continuer",
        "login.wrong": "Mot de passe incorrect.",
        "login.too_many": "Trop de tentatives. Réessayez dans une minute.",
        "login.email": "E-mail professionnel",
        "login.email_submit": "Recevoir un lien",
        "login.email_sent": "Si cette adresse a accès à la page, un lien de connexion est en route.",
        "login.bad_domain": "Ce domaine e-mail n’a pas accès à cette page.",
        "login.expired": "Ce lien de connexion a expiré. Demandez-en un nouveau.",
        "login.send_failed": "Le lien de connexion n’a pas pu être envoyé. Réessayez plus tard.",
        "magic.subject": "Connexion à {title}",
        "magic.intro": "Suivez ce lien pour voir la page de statut {title} :",
        "magic.link": "Se connecter à {title}",
        "magic.note": "Il est valable 15 minutes. Si vous ne l’avez pas demandé, ignorez ce message.",
        "restricted.title": "Accès restreint",
        "restricted.body": "Cette page de statut n’est accessible que depuis des réseaux autorisés.",
        "not_found": "Introuvable",
        "bad_request": "Requête invalide",
        "updated": "Mis à jour {when}",
    },
    "de": {
        "status.operational": "Alle Systeme betriebsbereit",
        "status.degraded": "Eingeschränkte Leistung",
        "status.partial_outage": "Teilweiser Ausfall",
        "status.major_outage": "Schwerer Ausfall",
        "status.maintenance": "Wartungsarbeiten",
        "status.unknown": "Status unbekannt",
        "component.success": "Betriebsbereit",
        "component.degraded": "Eingeschränkt",
        "component.error": "Ausfall",
        "component.info": "Wartung",
        "component.empty": "Keine Daten",
        "report.investigating": "Untersuchung",
        "report.identified": "Identifiziert",
        "report.monitoring": "Beobachtung",
        "report.resolved": "Behoben",
        "skip": "Zum Inhalt springen",
        "nav.status": "Status",
        "nav.events": "Ereignisse",
        "nav.monitors": "Monitore",
        "active_reports": "Laufende Vorfälle",
        "upcoming_maintenance": "Geplante Wartung",
        "ongoing_maintenance": "Laufende Wartung",
        "past_events": "Vergangene Ereignisse",
        "older_events": "Ältere Ereignisse",
        "no_events": "Keine Vorfälle oder Wartungen gemeldet.",
        "uptime": "Verfügbarkeit",
        "days_ago": "vor {n} Tagen",
        "today": "Heute",
        "no_data": "Keine Daten",
        "checks": "{success} ok, {degraded} eingeschränkt, {error} fehlgeschlagen",
        "downtime_for": "Ausfall {duration}",
        "degraded_for": "Eingeschränkt {duration}",
        "maintenance_for": "Wartung {duration}",
        "affected": "Betroffen",
        "down_since": "Ausfall seit",
        "from_to": "{start} – {end}",
        "subscribe": "Updates abonnieren",
        "subscribe.email": "E-Mail-Adresse",
        "subscribe.button": "Abonnieren",
        "subscribe.sent": "Bitte bestätigen Sie Ihr Abonnement per E-Mail.",
        "subscribe.confirmed": "Sie haben Updates abonniert.",
        "subscribe.unsubscribed": "Sie erhalten keine Updates mehr.",
        "subscribe.invalid": "Dieser Link ist nicht mehr gültig.",
        "subscribe.bad_email": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "subscribe.confirm_prompt": "Bestätigen Sie Ihr Abonnement für Updates dieser Seite.",
        "subscribe.confirm_button": "Abonnement bestätigen",
        "subscribe.unsubscribe_prompt": "Keine Updates dieser Seite mehr erhalten?",
        "subscribe.unsubscribe_button": "Abbestellen",
        "powered_by": "bereitgestellt von openstatus.dev",
        "stale": "Diese Seite konnte nicht aktualisiert werden; sie zeigt den letzten bekannten Status.",
        "contact": "Kontakt",
        "homepage": "Webseite",
        "theme": "Design",
        "theme.light": "Hell",
        "theme.dark": "Dunkel",
        "theme.system": "System",
        "language": "Sprache",
        "back": "Zurück",
        "response_time": "Antwortzeit",
        "no_public_monitors": "Keine öffentlichen Monitore.",
        "login.title": "Diese Seite ist geschützt",
        "login.password": "Passwort",
        "login.submit": "Weiter",
        "login.wrong": "Falsches Passwort.",
        "login.too_many": "Zu viele Versuche. Bitte in einer Minute erneut versuchen.",
        "login.email": "Geschäftliche E-Mail",
        "login.email_submit": "Link senden",
        "login.email_sent": "Wenn diese Adresse Zugriff hat, ist ein Anmeldelink unterwegs.",
        "login.bad_domain": "Diese E-Mail-Domain hat keinen Zugriff auf diese Seite.",
        "login.expired": "Dieser Anmeldelink ist abgelaufen. Fordern Sie einen neuen an.",
        "login.send_failed": "Der Anmeldelink konnte nicht gesendet werden. Bitte später erneut versuchen.",
        "magic.subject": "Anmeldung bei {title}",
        "magic.intro": "Über diesen Link sehen Sie die Statusseite {title}:",
        "magic.link": "Bei {title} anmelden",
        "magic.note": "Er gilt 15 Minuten. Falls Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.",
        "restricted.title": "Zugriff eingeschränkt",
        "restricted.body": "Diese Statusseite ist nur aus freigegebenen Netzwerken erreichbar.",
        "not_found": "Nicht gefunden",
        "bad_request": "Ungültige Anfrage",
        "updated": "Aktualisiert {when}",
    },
}

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    "de": ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
}


_THOUSANDS = {"en": ",", "fr": "\u202f", "de": "."}


class Translator:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in MESSAGES else "en"
        self._messages = MESSAGES[self.locale]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages.get(key) or MESSAGES["en"].get(key, key)
        return text.format(**values) if values else text

    def date(self, value: date | datetime) -> str:
        month = _MONTHS[self.locale][value.month - 1]
        if self.locale == "en":
            return f"{month} {value.day}, {value.year}"
        return f"{value.day}{'.' if self.locale == 'de' else ''} {month} {value.year}"

    def datetime(self, value: datetime) -> str:
        return f"{self.date(value)} {value:%H:%M} UTC"

    def number(self, value: int) -> str:
        """An integer with the locale's thousands separator: 1,440 / 1 440 / 1.440."""
        grouped = f"{value:,}"
        return grouped.replace(",", _THOUSANDS[self.locale])

    def percent(self, value: float) -> str:
        """A percentage to three decimals, written as the locale writes it: 99.900% / 99,900 % / 99,900 %."""
        text = f"{value:.3f}"
        if self.locale == "en":
            return f"{text}%"
        return f"{text.replace('.', ',')}\u00a0%"

    def duration(self, delta: timedelta) -> str:
        minutes = int(delta.total_seconds() // 60)
        hours, minutes = divmod(minutes, 60)
        if hours and minutes:
            return f"{hours}h {minutes}m"
        if hours:
            return f"{hours}h"
        seconds = int(delta.total_seconds())
        return f"{minutes}m" if minutes else f"{seconds}s"
