"""The request/reply the API uses to have the notifier send a test message (core NATS, never stored).

The notifier holds the outbound credentials (SMTP, SMS gateway, Telegram bot) and the sending code, so a test
goes through exactly the path a real alert takes. The config travels over the internal bus only.
"""

from __future__ import annotations

from typing import Any

from openstatus_common.messages.base import BusMessage
from openstatus_common.notify.providers import Provider

SEND_TEST_SUBJECT = "notifier.test"
SEND_TEST_QUEUE = "notifier"


class SendTestRequest(BusMessage):
    workspace_id: int
    provider: Provider
    config: dict[str, Any]


class SendTestReply(BusMessage):
    success: bool
    error: str | None = None
