"""Outgoing mail: messages built and sent the same way by every service that mails (notifier, status pages)."""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.message import EmailMessage

from openstatus_common.settings import Settings

IMPLICIT_TLS_PORT = 465

# SMTP line endings, and headers folded only past 998 characters: a long header without spaces (a
# List-Unsubscribe URL) must stay plain ASCII, never become an RFC 2047 encoded word that clients ignore.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def new_message() -> EmailMessage:
    return EmailMessage(policy=MAIL_POLICY)


def smtp_send(settings: Settings, message: EmailMessage) -> None:
    """One session with the deployment's SMTP server (``OPENSTATUS_SMTP_*``). Blocking: run it in a thread.

    Port 465 is implicit TLS; otherwise STARTTLS unless turned off. Raises ``smtplib.SMTPException`` or
    ``OSError``; callers decide what a failure means.
    """
    context = ssl.create_default_context()
    timeout = settings.notify_timeout
    client: smtplib.SMTP
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_port != IMPLICIT_TLS_PORT and settings.smtp_starttls:
            client.starttls(context=context)
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password)
        client.send_message(message)
