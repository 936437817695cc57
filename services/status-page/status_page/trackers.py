"""The 90-day tracker as HTML, built in Python: 90 bars per component, each with its hover and focus card.

This is the hot part of a page render (thousands of bars on a big page); plain string building is several
times faster than a template macro. Everything that comes from users is escaped here.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from openstatus_common.pages.snapshot import ComponentView, PageSnapshot
from openstatus_common.pages.tracker import BarType, CardType, DayBar
from status_page.context import PageRequest


def bar_style(bar: DayBar) -> str:
    """A proportional bar: its segments as a bottom-up CSS gradient (colours from the theme's variables)."""
    stops: list[str] = []
    at = 0.0
    for name, share in bar.segments:
        end = at + share * 100
        stops.append(f"var(--c-{name}) {at:.2f}% {end:.2f}%")
        at = end
    return "--g:linear-gradient(to top," + ",".join(stops) + ")"


def render_tracker(component: ComponentView, snap: PageSnapshot, pr: PageRequest) -> Markup:
    t = pr.t
    config = snap.page.tracker
    counts_card = (
        config.bar_type is BarType.ABSOLUTE
        and config.card_type is CardType.REQUESTS
        and component.type == "monitor"
    )
    target = ' target="_blank"' if pr.embed.enabled else ""
    labels = {
        status: escape(t("component." + status))
        for status in ("success", "degraded", "error", "info", "empty")
    }
    uptime_word = escape(t("uptime"))
    bars = component.tracker.bars
    last = len(bars) - 1
    out = [
        f'<div class="tracker" role="group" aria-label="{escape(component.name)}" data-tracker><ol class="bars">'
    ]
    for index, bar in enumerate(bars):
        card_id = f"c{component.id}-{index}"
        style = f' style="{bar_style(bar)}"' if len(bar.segments) > 1 else ""
        parts = [
            f'<li class="bar s-{bar.status}"{style} tabindex="{0 if index == last else -1}" aria-describedby="{card_id}">'
            f'<span class="card" role="tooltip" id="{card_id}"><strong>{escape(t.date(bar.day))}</strong>'
            f'<span class="card-status s-{bar.status}">{labels[bar.status]}</span>'
        ]
        if bar.status != "empty":
            if config.show_uptime and bar.uptime is not None:
                parts.append(f"<span>{t.percent(bar.uptime)} {uptime_word}</span>")
            if counts_card:
                c = bar.counts
                parts.append(
                    f"<span>{escape(t('checks', success=t.number(c.success), degraded=t.number(c.degraded), error=t.number(c.error)))}</span>"
                )
            else:
                for key, amount in (
                    ("downtime_for", bar.downtime),
                    ("degraded_for", bar.degraded_time),
                    ("maintenance_for", bar.maintenance_time),
                ):
                    if amount.total_seconds() > 0:
                        parts.append(f"<span>{escape(t(key, duration=t.duration(amount)))}</span>")
            for h in bar.happenings:
                if h.kind == "incident":
                    text = f"{labels['error']} {escape(t.duration(h.interval.length))}"
                elif h.kind == "report":
                    href = escape(pr.url(f"events/report/{h.id}"))
                    text = f'<a href="{href}" tabindex="-1"{target}>{escape(h.title)}</a>'
                else:
                    text = f"{labels['info']}: {escape(h.title)}"
                parts.append(f'<span class="happening k-{h.kind}">{text}</span>')
        parts.append("</span></li>")
        out.append("".join(parts))
    uptime = component.tracker.uptime
    shown_uptime = (
        f'<span class="uptime">{t.percent(uptime)} {uptime_word}</span>'
        if config.show_uptime and uptime is not None
        else ""
    )
    out.append(
        '</ol><div class="tracker-legend"><span>'
        f'<span class="wide">{escape(t("days_ago", n=len(bars)))}</span>'
        f'<span class="narrow">{escape(t("days_ago", n=30))}</span></span>'
        f"{shown_uptime}<span>{escape(t('today'))}</span></div></div>"
    )
    return Markup("".join(out))  # noqa: S704  (every user value above went through escape)
