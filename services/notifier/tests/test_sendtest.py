"""Send-test: a config is tried through the real senders (apprise included) and nothing is stored.

Telegram, Twilio SMS and WhatsApp are only reachable on their vendors' hosts; their apprise plugins are
pointed at the local receiver here, so the request apprise builds from our URL is checked for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from apprise.plugins.telegram import NotifyTelegram
from apprise.plugins.twilio import NotifyTwilio
from nats.errors import NoRespondersError

from notifier.senders import SendContext, open_context
from notifier.sendtest import run_test
from openstatus_common.bus import Bus
from openstatus_common.local.natsd import free_port
from openstatus_common.notify import (
    SEND_TEST_SUBJECT,
    Provider,
    SendTestReply,
    SendTestRequest,
    validate_config,
)
from openstatus_common.settings import Settings
from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.receivers import HttpReceiver, SmtpReceiver

from .conftest import StartNotifier


@pytest.fixture
async def senders(receiver: HttpReceiver, smtp: SmtpReceiver) -> AsyncIterator[SendContext]:
    settings = Settings(
        notify_timeout=2,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        notify_telegram_bot_token="123456:ABCdef_ghi",
        notify_sms_url="twilio://AC0123456789abcdef0123456789abcdef:abcdef0123456789@+15550001111",
    )
    async with open_context(settings) as context:
        yield context


def request(provider: str, data: dict[str, Any]) -> SendTestRequest:
    kind = Provider(provider)
    return SendTestRequest(workspace_id=1, provider=kind, config=validate_config(kind, data))


async def test_a_test_message_reaches_the_receiver(
    senders: SendContext, receiver: HttpReceiver, smtp: SmtpReceiver
) -> None:
    reply = await run_test(senders, request("webhook", {"endpoint": f"{receiver.url}/hook"}))
    assert reply == SendTestReply(success=True)
    body = receiver.at("/hook")[0].json()
    assert body["monitor"] == {"id": 1, "name": "test", "url": "http://openstat.us"}
    assert body["status"] == "recovered"

    assert (await run_test(senders, request("email", {"email": "me@example.com"}))).success
    assert smtp.messages[0][1]["Subject"] == "Test notification from openstatus"

    assert (await run_test(senders, request("discord", {"webhookUrl": f"{receiver.url}/d"}))).success
    assert receiver.at("/d")[0].json()["embeds"][0]["title"] == "Test notification from openstatus"


async def test_a_failing_config_says_why_without_its_secrets(
    senders: SendContext, receiver: HttpReceiver
) -> None:
    receiver.fail("/hooks/secret-token-value", times=1, status=403)
    reply = await run_test(
        senders, request("slack", {"webhookUrl": f"{receiver.url}/hooks/secret-token-value"})
    )
    assert reply.success is False
    assert reply.error is not None and "HTTP 403" in reply.error and "secret-token-value" not in reply.error

    refused = await run_test(senders, request("webhook", {"endpoint": f"http://127.0.0.1:{free_port()}/x"}))
    assert refused.success is False and refused.error is not None and "could not reach" in refused.error

    ntfy = await run_test(
        senders, request("ntfy", {"topic": "t", "serverUrl": f"http://127.0.0.1:{free_port()}"})
    )
    assert ntfy.success is False and ntfy.error


async def test_apprise_providers_send_what_their_apis_expect(
    senders: SendContext, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{receiver.url}/telegram/bot")
    monkeypatch.setattr(NotifyTwilio, "notify_sms_url", receiver.url + "/twilio/{sid}/Messages.json")

    assert (await run_test(senders, request("telegram", {"chatId": "-100123"}))).success
    sent = receiver.at("/telegram/bot123456:ABCdef_ghi/sendMessage")[0].json()
    assert sent["chat_id"] == -100123
    assert "Test notification from openstatus" in sent["text"]

    assert (await run_test(senders, request("sms", {"phoneNumber": "+1 415 555 2671"}))).success
    (twilio,) = receiver.at("/twilio/AC0123456789abcdef0123456789abcdef/Messages.json")
    assert b"To=%2B14155552671" in twilio.body and b"From=%2B15550001111" in twilio.body


async def test_the_notifier_answers_test_requests_on_the_bus(
    start_notifier: StartNotifier, bus: Bus, receiver: HttpReceiver
) -> None:
    await start_notifier()
    payload = request("webhook", {"endpoint": f"{receiver.url}/bus"}).model_dump_json().encode()
    replies: list[SendTestReply] = []

    async def answered() -> bool:
        try:
            message = await bus.nc.request(SEND_TEST_SUBJECT, payload, timeout=10)
        except NoRespondersError:  # still subscribing
            return False
        replies.append(SendTestReply.model_validate_json(message.data))
        return True

    await wait_for(answered, timeout=10)
    assert replies == [SendTestReply(success=True)]
    assert len(receiver.at("/bus")) == 1
