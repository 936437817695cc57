"""Email through the deployment's SMTP server (``OPENSTATUS_SMTP_*``): a plain-text and an HTML part.

Sent with the standard library's smtplib in a worker thread rather than apprise: apprise picks SMTP servers
and ports from the sender's domain, while here the operator's settings are the only source of truth.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from notifier.content import Message, Notice, render
from notifier.senders.base import SendContext, SendError
from openstatus_common.mail import new_message, smtp_send
from openstatus_common.notify import EmailConfig
from openstatus_common.settings import Settings


def build_html(message: Message) -> str:
    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0'>{html.escape(label)}</th>"
        f"<td>{html.escape(value)}</td></tr>"
        for label, value in message.facts
    )
    link = (
        f"<p><a href='{html.escape(message.link, quote=True)}'>View monitor</a></p>" if message.link else ""
    )
    return f"<h2>{html.escape(message.title)}</h2><table>{rows}</table>{link}<p>openstatus</p>"


def build_email(config: EmailConfig, notice: Notice, sender: str) -> EmailMessage:
    message = render(notice)
    email = new_message()
    email["Subject"] = message.title
    email["From"] = sender
    email["To"] = config.email
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="openstatus")
    email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to an alert
    email["X-Openstatus-Delivery"] = notice.key
    email.set_content(message.text() + "\n\nopenstatus\n")
    email.add_alternative(build_html(message), subtype="html")
    return email


async def send_email(settings: Settings, email: EmailMessage) -> None:
    """Send one message through the deployment's SMTP server; SendError says why not and if retrying helps.

    The one SMTP path of the notifier: email channels and status-page subscriber mail both go through it.
    """
    if not settings.smtp_host:
        raise SendError("SMTP is not configured on this deployment (OPENSTATUS_SMTP_HOST)", permanent=True)
    try:
        await asyncio.to_thread(smtp_send, settings, email)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        raise SendError(f"the SMTP server refused the message: {error}", permanent=True) from None
    except smtplib.SMTPAuthenticationError as error:
        raise SendError(f"SMTP login failed: {error.smtp_code}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as error:
        raise SendError(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(error).__name__} {error}"
        ) from None


async def send(ctx: SendContext, config: EmailConfig, notice: Notice) -> None:
    await send_email(ctx.settings, build_email(config, notice, ctx.settings.smtp_from))
