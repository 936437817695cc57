"""Outgoing mail messages, built the same way by every service that mails."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

# SMTP line endings, and headers folded only past 998 characters: a long header without spaces (a
# List-Unsubscribe URL) must stay plain ASCII, never become an RFC 2047 encoded word that clients ignore.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def new_message() -> EmailMessage:
    return EmailMessage(policy=MAIL_POLICY)
