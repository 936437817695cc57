"""Signing in to a protected page: the password form, the magic-link form and link, and signing out.

Not gated (they are how a visitor gets through the gate). Password attempts are limited per page and client
(``access.LOGIN_FAILURES_PER_WINDOW`` a minute, counted before the check, forgotten on success; an IPv6
client is its /64), magic-link requests likewise; posts from another
site are refused. An address whose domain the page does not accept is told so (``login.bad_domain``): the
friendlier answer, and the domains are no secret worth keeping from someone who can guess a company's name.
A magic link is good for 15 minutes and may be followed more than once in that time (mail scanners open
links before people do); it only ever yields a session for the address it was sent to.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from urllib.parse import urlencode, urlsplit

import structlog
from starlette.responses import RedirectResponse, Response

from openstatus_common.errors import InvalidArgument
from openstatus_common.mail import new_message, smtp_send
from openstatus_common.pages.subscribers import normalize_email
from openstatus_common.pages.urls import page_url
from openstatus_common.settings import Settings
from status_page import access
from status_page.context import PageRequest
from status_page.routing import host_of
from status_page.views.common import plain_html

log = structlog.get_logger(__name__)


class MailError(Exception):
    """The sign-in mail could not be handed to the SMTP server."""


def _mode(pr: PageRequest) -> str | None:
    kind = pr.snapshot.page.access_type
    return {"password": "password", "email-domain": "email"}.get(kind)


def _form(pr: PageRequest, *, status_code: int = 200, **values: object) -> Response:
    values.setdefault("mode", _mode(pr))
    values.setdefault("next", "")
    return plain_html(pr, "login.html", status_code=status_code, **values)


def _home(pr: PageRequest, following: str = "") -> RedirectResponse:
    return RedirectResponse(pr.url(following), status_code=303, headers={"Cache-Control": "no-store"})


async def login(pr: PageRequest) -> Response:
    """GET: the form the page's access type asks for; POST: check it."""
    mode = _mode(pr)
    if mode is None:  # public and ip-restricted pages have no login
        return _home(pr)
    if pr.request.method != "POST":
        following = access.safe_next(pr.request.query_params.get("next"))
        if access.has_session(pr):
            return _home(pr, following)
        return _form(pr, next=following)
    access.require_same_origin(pr.request)
    form = await access.read_form(pr.request)
    following = access.safe_next(form.get("next"))
    if mode == "password":
        return await _password(pr, form.get("password", ""), following)
    return await _email(pr, form.get("email", ""), following)


async def _password(pr: PageRequest, password: str, following: str) -> Response:
    verified = await access.check_password(pr, password)
    if verified is None:
        log.info("page.login_limited", page_id=pr.page_id)
        return access.too_many(pr, mode="password", next=following)
    if not verified:
        log.info("page.login_failed", page_id=pr.page_id)
        return _form(pr, status_code=401, error=pr.t("login.wrong"), next=following)
    response = _home(pr, following)
    access.set_session(pr, response)
    return response


async def _email(pr: PageRequest, raw_email: str, following: str) -> Response:
    page = pr.snapshot.page
    if not access.limiter(pr, "magic", access.MAGIC_LINKS_PER_WINDOW).hit(f"{page.id}:{access.visitor(pr)}"):
        log.info("page.magic_link_limited", page_id=page.id)
        return access.too_many(pr, mode="email", next=following, email=raw_email)
    try:
        email = normalize_email(raw_email)
    except InvalidArgument:
        return _form(pr, status_code=400, error=pr.t("subscribe.bad_email"), email=raw_email, next=following)
    if not access.email_allowed(page, email):
        return _form(pr, status_code=403, error=pr.t("login.bad_domain"), email=raw_email, next=following)
    token = access.magic_token(pr.pages.signing_key, page, email)
    # ``next`` rides along unsigned: safe_next keeps it inside this page whoever edits it.
    link = (
        _link(pr, "login/magic")
        + "?"
        + urlencode({"token": token, **({"next": following} if following else {})})
    )
    try:
        await send_mail(pr.pages.settings, _magic_mail(pr, email, link))
    except MailError as error:
        log.warning("page.magic_link_unsent", page_id=page.id, error=str(error))
        return plain_html(
            pr,
            "message.html",
            status_code=503,
            title=pr.t("login.title"),
            message=pr.t("login.send_failed"),
        )
    log.info("page.magic_link_sent", page_id=page.id)
    return _form(pr, notice=pr.t("login.email_sent"), sent=True)


async def magic(pr: PageRequest) -> Response:
    """The link from the mail: a session for its address, then the page."""
    if _mode(pr) != "email":
        return _home(pr)
    email = access.magic_email(
        pr.pages.signing_key, pr.snapshot.page, pr.request.query_params.get("token", "")
    )
    if email is None:
        response = _form(pr, status_code=401, error=pr.t("login.expired"))
        response.headers.update(access.SECRET_URL_HEADERS)
        return response
    log.info("page.magic_link_used", page_id=pr.page_id)
    response = _home(pr, access.safe_next(pr.request.query_params.get("next")))
    response.headers.update(access.SECRET_URL_HEADERS)
    access.set_session(pr, response, email=email)
    return response


async def logout(pr: PageRequest) -> Response:
    access.require_same_origin(pr.request)
    response = _home(pr)
    access.clear_session(pr, response)
    return response


def _link(pr: PageRequest, path: str) -> str:
    """An absolute link into the page for a mail. The request's host only when it is one of the page's own
    (its custom domain, its subdomain, the service's public host): a forged Host header must not make us
    mail a link, and its token, to somebody else's server."""
    page = pr.snapshot.page
    settings = pr.pages.settings
    host = host_of(pr.request.headers.get("host", ""))
    own = {urlsplit(settings.status_page_url).hostname or ""}
    if page.custom_domain:
        own.add(page.custom_domain.lower())
    if settings.status_page_base_domain:
        own.add(f"{page.slug}.{settings.status_page_base_domain}")
    if host and host in own:
        return pr.absolute(path)
    return page_url(settings, page.slug, page.custom_domain) + pr.url(path)[len(pr.prefix) :]


def _magic_mail(pr: PageRequest, email: str, link: str) -> EmailMessage:
    """In the visitor's locale (the one the sign-in form was in)."""
    title = " ".join(pr.snapshot.page.title.split()) or pr.snapshot.page.slug
    message = new_message()
    message["Subject"] = pr.t("magic.subject", title=title)
    message["From"] = pr.pages.settings.smtp_from
    message["To"] = email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="openstatus")
    message["Auto-Submitted"] = "auto-generated"
    intro, note = pr.t("magic.intro", title=title), pr.t("magic.note")
    message.set_content(f"{intro}\n\n{link}\n\n{note}\n\nopenstatus\n")
    message.add_alternative(
        f"<p>{escape(intro)}</p>"
        f"<p><a href='{escape(link, quote=True)}'>{escape(pr.t('magic.link', title=title))}</a></p>"
        f"<p>{escape(note)}</p><p>openstatus</p>",
        subtype="html",
    )
    return message


async def send_mail(settings: Settings, message: EmailMessage) -> None:
    """Send through the deployment's SMTP server (``OPENSTATUS_SMTP_*``) without blocking the event loop.

    The same SMTP session as the notifier's (``openstatus_common.mail.smtp_send``).
    """
    if not settings.smtp_host:
        raise MailError("SMTP is not configured (OPENSTATUS_SMTP_HOST)")
    try:
        await asyncio.to_thread(smtp_send, settings, message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(error).__name__}") from None
