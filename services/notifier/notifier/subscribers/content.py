"""What a subscriber mail says: the stored facts (``payload``), and the subject, text and HTML built from them.

A delivery row stores the facts as they were when the event was recorded (the report's update, the
maintenance window), never a subscriber's token: the confirm and unsubscribe links are built at send time
from the subscriber row, so the payload is the same for every subscriber of a page and holds no secret.
Everything user-written (page title, report title, messages, component names) is escaped in the HTML part
and folded to one line in the subject.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from notifier.subscribers.wording import WORDING
from openstatus_common.mail import new_message
from openstatus_common.messages.base import UtcDatetime
from openstatus_common.vocab.status import StatusReportStatus

MAX_SUBJECT_PART = 150
EN_DASH = "\u2013"


class PageRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: str
    url: str  # the page's root URL, without a trailing slash
    # The page's default locale: the mail's language (mails queued before it was stored are in English).
    locale: str = "en"

    def say(self, key: str, **values: str) -> str:
        words = WORDING.get(self.locale, WORDING["en"])
        return words.get(key, WORDING["en"][key]).format(**values)


class ReportMail(BaseModel):
    """One timeline entry of a status report (the first one when the report is published)."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["report"] = "report"
    page: PageRef
    title: str
    status: str
    message: str
    date: UtcDatetime
    components: list[str] = []
    # The report's page (its whole timeline); None in mails queued before reports were linked.
    report_id: int | None = None

    @property
    def url(self) -> str:
        return f"{self.page.url}/events/report/{self.report_id}" if self.report_id else self.page.url


class MaintenanceMail(BaseModel):
    """A maintenance window: announced, changed, or about to start."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["maintenance"] = "maintenance"
    stage: Literal["scheduled", "updated", "in_progress", "reminder"]
    page: PageRef
    title: str
    message: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    components: list[str] = []


class ConfirmMail(BaseModel):
    """The double opt-in mail of a pending subscriber."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["confirm"] = "confirm"
    page: PageRef


PageMail = Annotated[ReportMail | MaintenanceMail | ConfirmMail, Field(discriminator="kind")]
PAGE_MAIL: TypeAdapter[ReportMail | MaintenanceMail | ConfirmMail] = TypeAdapter(PageMail)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def confirm_url(page: PageRef, token: str) -> str:
    return f"{page.url}/confirm/{quote(token, safe='')}"


def unsubscribe_url(page: PageRef, token: str) -> str:
    return f"{page.url}/unsubscribe/{quote(token, safe='')}"


def one_line(text: str, limit: int = MAX_SUBJECT_PART) -> str:
    """For a header: whitespace (newlines included) folded to single spaces, clipped."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def window(starts_at: datetime, ends_at: datetime) -> str:
    """``2026-12-01 14:00-15:00 UTC`` within a day, ``2026-12-01 23:00 - 2026-12-02 01:00 UTC`` across days
    (with an en dash)."""
    if starts_at.date() == ends_at.date():
        return f"{minute(starts_at)}{EN_DASH}{ends_at.strftime('%H:%M')} UTC"
    return f"{minute(starts_at)} {EN_DASH} {minute(ends_at)} UTC"


def _paragraphs_html(text: str) -> str:
    return "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.split("\n\n")
        if block.strip()
    )


def _facts_html(facts: list[tuple[str, str]]) -> str:
    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0'>{html.escape(label)}</th>"
        f"<td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    return f"<table>{rows}</table>" if rows else ""


def _link_html(url: str, label: str) -> str:
    return f"<a href='{html.escape(url, quote=True)}'>{html.escape(label)}</a>"


def _compose(
    *,
    subject: str,
    heading: str,
    message: str,
    facts: list[tuple[str, str]],
    page: PageRef,
    footer_text: str,
    footer_html: str,
    read_more: str | None = None,
) -> Rendered:
    """``read_more``: the URL of the full story (a report's page); the status page by default."""
    if read_more is None:
        more_text, more_html, more_url = (
            page.say("status_page"),
            page.say("view_page", page=page.title),
            page.url,
        )
    else:
        more_text, more_html, more_url = page.say("full_report"), page.say("read_report"), read_more
    message = message.replace("\r\n", "\n")
    text_lines = [heading, ""]
    if message.strip():
        text_lines += [message.strip(), ""]
    text_lines += [f"{label}: {value}" for label, value in facts]
    text_lines += ["", f"{more_text}: {more_url}", "", "-- ", footer_text]
    body_html = (
        f"<h2>{html.escape(heading)}</h2>{_paragraphs_html(message)}{_facts_html(facts)}"
        f"<p>{_link_html(more_url, more_html)}</p>"
        f"<hr><p style='color:#666;font-size:12px'>{footer_html}</p>"
    )
    return Rendered(subject=subject, text="\n".join(text_lines) + "\n", html=body_html)


def render(mail: ReportMail | MaintenanceMail | ConfirmMail, *, token: str) -> Rendered:
    """The mail for one subscriber, whose ``token`` goes into the confirm or unsubscribe link."""
    page = mail.page
    prefix = f"[{one_line(page.title)}]"
    if isinstance(mail, ConfirmMail):
        link = confirm_url(page, token)
        intro, ignore = page.say("confirm_intro", page=page.title), page.say("confirm_ignore")
        text = f"{intro}\n\n{page.say('confirm_link')}: {link}\n\n{ignore}\n"
        body_html = (
            f"<p>{html.escape(intro)}</p><p>{_link_html(link, page.say('confirm_link'))}</p>"
            f"<p style='color:#666;font-size:12px'>{html.escape(ignore)}</p>"
        )
        subject = page.say("confirm_subject", page=one_line(page.title))
        return Rendered(subject=subject, text=text, html=body_html)
    leave = unsubscribe_url(page, token)
    footer_text = f"{page.say('why', page=page.title)}\n{page.say('unsubscribe')}: {leave}"
    footer_html = (
        f"{html.escape(page.say('why', page=page.title))} {_link_html(leave, page.say('unsubscribe'))}"
    )
    components = [(page.say("affected"), ", ".join(mail.components))] if mail.components else []
    if isinstance(mail, ReportMail):
        known = mail.status in {status.value for status in StatusReportStatus}
        status = page.say(mail.status) if known else mail.status.title()
        return _compose(
            subject=f"{prefix} {status}: {one_line(mail.title)}",
            heading=f"{mail.title} — {status}",
            message=mail.message,
            facts=[
                (page.say("status"), status),
                *components,
                (page.say("posted"), f"{minute(mail.date)} UTC"),
            ],
            page=page,
            footer_text=footer_text,
            footer_html=footer_html,
            read_more=mail.url,
        )
    span = window(mail.starts_at, mail.ends_at)
    heading = page.say(mail.stage, title=mail.title, start=minute(mail.starts_at))
    subject = page.say(mail.stage, title=one_line(mail.title), start=minute(mail.starts_at))
    if mail.stage != "reminder":
        subject = f"{subject} ({span})"
    return _compose(
        subject=f"{prefix} {subject}",
        heading=heading,
        message=mail.message,
        facts=[(page.say("when"), span), *components],
        page=page,
        footer_text=footer_text,
        footer_html=footer_html,
    )


def build_message(
    mail: ReportMail | MaintenanceMail | ConfirmMail, *, to: str, token: str, sender: str, key: str
) -> EmailMessage:
    """The email for one subscriber; every mail but the confirmation carries RFC 8058 one-click unsubscribe."""
    rendered = render(mail, token=token)
    email = new_message()
    email["Subject"] = rendered.subject
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="openstatus")
    email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies
    email["X-Openstatus-Delivery"] = key
    if not isinstance(mail, ConfirmMail):
        email["List-Unsubscribe"] = f"<{unsubscribe_url(mail.page, token)}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email
