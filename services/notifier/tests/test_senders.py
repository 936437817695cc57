"""Each provider's pure builder, without a network: payloads, URLs and the message every channel renders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import apprise
import httpx
import pytest

from notifier.content import Notice, render, sample_alert
from notifier.dispatcher import backoff
from notifier.senders import (
    SENDERS,
    SendContext,
    SendError,
    apprise_providers,
    discord,
    email,
    google_chat,
    grafana_oncall,
    ms_teams,
    opsgenie,
    pagerduty,
    slack,
    webhook,
)
from openstatus_common.messages import MonitorAlert, MonitorRef
from openstatus_common.notify import (
    EmailConfig,
    NtfyConfig,
    OpsgenieConfig,
    PagerDutyConfig,
    Provider,
    SlackConfig,
    SmsConfig,
    TelegramConfig,
    WebhookConfig,
)
from openstatus_common.settings import Settings

START = datetime(2026, 4, 7, 11, 0, 0, tzinfo=UTC)
MONITOR = MonitorRef(id=1, name="test", url="http://openstat.us")
DOWN = MonitorAlert(
    monitor=MONITOR,
    cronTimestamp=int((START + timedelta(minutes=5)).timestamp() * 1000),
    status="error",
    errorMessage="Connection refused",
    regions=["ams", "iad"],
    regionErrors={"iad": "timeout"},
    startedAt=START,
)
UP = MonitorAlert(
    monitor=MONITOR,
    cronTimestamp=1744023705307,
    status="recovered",
    statusCode=200,
    latency=1337,
    startedAt=datetime.fromtimestamp(1744023705307 / 1000 - 125, tz=UTC),
)
LINK = "https://api.example.com/v1/monitor/1"


def notice(alert: MonitorAlert = DOWN, **fields: object) -> Notice:
    return Notice(alert=alert, key="evt-1:7", details_url=LINK, **fields)  # type: ignore[arg-type]


def ctx(**settings: object) -> SendContext:
    return SendContext(settings=Settings(**settings), http=httpx.AsyncClient())  # type: ignore[arg-type]


def test_every_provider_has_a_sender() -> None:
    assert set(SENDERS) == set(Provider)


def test_the_message_says_what_where_since_when_and_links() -> None:
    message = render(notice())
    assert message.title == "test is down"
    facts = dict(message.facts)
    assert facts["Monitor"] == "test (http://openstat.us)"
    assert facts["Regions"] == "ams, iad"
    assert facts["Error"] == "Connection refused; iad: timeout"
    assert facts["Started"] == "2026-04-07 11:00:00 UTC"
    assert message.summary == "test is down: Connection refused; iad: timeout"
    assert message.text().endswith(f"Details: {LINK}")

    recovered = dict(render(notice(UP)).facts)
    assert recovered["Duration"] == "2m 5s"
    assert recovered["Status code"] == "200" and recovered["Latency"] == "1337 ms"
    assert render(notice(sample_alert(START), test=True)).title == "Test notification from openstatus"


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        (
            UP,
            {
                "monitor": {"id": 1, "name": "test", "url": "http://openstat.us"},
                "cronTimestamp": 1744023705307,
                "status": "recovered",
                "statusCode": 200,
                "latency": 1337,
            },
        ),
        (
            MonitorAlert(
                monitor=MONITOR,
                cronTimestamp=1744023705307,
                status="error",
                errorMessage="Connection refused",
            ),
            {
                "monitor": {"id": 1, "name": "test", "url": "http://openstat.us"},
                "cronTimestamp": 1744023705307,
                "status": "error",
                "errorMessage": "Connection refused",
            },
        ),
    ],
)
def test_webhook_posts_the_seed_payloads_exactly(alert: MonitorAlert, expected: dict[str, object]) -> None:
    config = WebhookConfig.model_validate(
        {"endpoint": "https://hooks.example.com/in", "headers": [{"key": "X-Token", "value": "abc"}]}
    )
    request = webhook.build_request(config, notice(alert))
    assert request.url == "https://hooks.example.com/in"
    assert request.body == expected
    assert request.headers == {"Idempotency-Key": "evt-1:7", "X-Token": "abc"}


def test_slack_blocks_escape_what_we_did_not_write() -> None:
    alert = DOWN.model_copy(update={"monitor": MonitorRef(id=1, name="<!channel> & co", url="http://x")})
    body = slack.build_request(
        SlackConfig(webhookUrl="https://hooks.slack.com/services/A/B/C"), notice(alert)
    ).body
    assert body["text"].startswith(":red_circle: &lt;!channel&gt; &amp; co is down")
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "<!channel> & co is down"},
    }
    assert body["blocks"][-1]["elements"][0]["text"] == f"<{LINK}|View monitor> · openstatus"


def test_discord_google_chat_oncall_and_teams_shapes() -> None:
    message = render(notice())
    embed = discord.build_body(message)["embeds"][0]
    assert embed["color"] == discord.COLOURS["error"] and embed["url"] == LINK
    assert {"name": "Regions", "value": "ams, iad", "inline": True} in embed["fields"]

    assert google_chat.build_body(message)["text"].startswith("*test is down*\nMonitor: test")

    alerting = grafana_oncall.build_body(message, "openstatus-monitor-1")
    assert alerting["state"] == "alerting" and alerting["alert_uid"] == "openstatus-monitor-1"
    assert grafana_oncall.build_body(render(notice(UP)), "u")["state"] == "ok"

    card = ms_teams.build_body(message)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["color"] == "Attention"
    assert card["content"]["actions"][0]["url"] == LINK


def test_pagerduty_triggers_resolves_and_tests_without_leaving_an_incident_open() -> None:
    config = PagerDutyConfig(integrationKey="R0UTINGKEY0123456789abcdef")
    (trigger,) = pagerduty.build_requests(config, notice(), "https://pd/enqueue")
    assert trigger.body["event_action"] == "trigger"
    assert trigger.body["dedup_key"] == "openstatus-monitor-1"
    assert trigger.body["payload"]["severity"] == "critical"
    assert trigger.body["payload"]["custom_details"]["Regions"] == "ams, iad"
    (resolve,) = pagerduty.build_requests(config, notice(UP), "https://pd/enqueue")
    assert resolve.body == {
        "routing_key": "R0UTINGKEY0123456789abcdef",
        "event_action": "resolve",
        "dedup_key": "openstatus-monitor-1",
    }
    test_trigger, test_resolve = pagerduty.build_requests(config, notice(test=True), "https://pd/enqueue")
    assert test_trigger.body["dedup_key"] == test_resolve.body["dedup_key"] == "openstatus-test-evt-1:7"


def test_opsgenie_creates_and_closes_by_alias() -> None:
    config = OpsgenieConfig(apiKey="0123-4567-89ab-cdef", region="eu")
    (create,) = opsgenie.build_requests(config, notice(), "https://og")
    assert create.url == "https://og/v2/alerts"
    assert create.headers == {"Authorization": "GenieKey 0123-4567-89ab-cdef"}
    assert create.body["alias"] == "openstatus-monitor-1" and create.body["priority"] == "P1"
    (close,) = opsgenie.build_requests(config, notice(UP), "https://og")
    assert close.url == "https://og/v2/alerts/openstatus-monitor-1/close"
    assert close.params == {"identifierType": "alias"}


def test_email_has_subject_text_and_html() -> None:
    message = email.build_email(EmailConfig(email="oncall@example.com"), notice(), "openstatus <a@b.c>")
    assert message["Subject"] == "test is down"
    assert message["To"] == "oncall@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]


def test_apprise_urls_are_built_from_config_and_settings_and_apprise_accepts_them() -> None:
    context = ctx(
        notify_timeout=3,
        notify_telegram_bot_token="123456:ABCdef_ghi",
        notify_sms_url="twilio://AC0123456789abcdef0123456789abcdef:abcdef0123456789@+15550001111",
        notify_whatsapp_url="whatsapp://abcdef0123@1234567",
    )
    message = render(notice())
    ntfy = apprise_providers.ntfy_url(
        NtfyConfig(topic="alerts", serverUrl="https://ntfy.example.com", token="tk_secret"), message, context
    )
    assert ntfy.startswith("ntfys://ntfy.example.com/alerts?")
    assert "token=tk_secret" in ntfy and "priority=high" in ntfy and "cto=3" in ntfy
    assert apprise_providers.ntfy_url(
        NtfyConfig(topic="t", serverUrl="http://127.0.0.1:8080"), message, context
    ).startswith("ntfy://127.0.0.1:8080/t?")
    telegram = apprise_providers.telegram_url(TelegramConfig(chatId="-100123"), context)
    assert telegram.startswith("tgram://123456:ABCdef_ghi/-100123?")
    sms = apprise_providers.gateway_url(
        context.settings.notify_sms_url, "+14155552671", context, setting="S", what="SMS"
    )
    assert sms.startswith(
        "twilio://AC0123456789abcdef0123456789abcdef:abcdef0123456789@+15550001111/+14155552671?"
    )
    for url in (ntfy, telegram, sms):
        assert apprise.Apprise.instantiate(url) is not None, url


async def test_unconfigured_deployment_providers_fail_permanently_and_say_which_setting() -> None:
    context = ctx()
    with pytest.raises(SendError) as telegram:
        apprise_providers.telegram_url(TelegramConfig(chatId="1"), context)
    assert telegram.value.permanent and "OPENSTATUS_NOTIFY_TELEGRAM_BOT_TOKEN" in telegram.value.message
    with pytest.raises(SendError) as sms:
        await apprise_providers.send_sms(context, SmsConfig(phoneNumber="+14155552671"), notice())
    assert sms.value.permanent and "OPENSTATUS_NOTIFY_SMS_URL" in sms.value.message
    with pytest.raises(SendError) as mail:
        await email.send(context, EmailConfig(email="a@b.co"), notice())
    assert mail.value.permanent and "OPENSTATUS_SMTP_HOST" in mail.value.message
    await context.http.aclose()


def test_backoff_doubles_from_the_base() -> None:
    settings = Settings(notify_backoff_base=5)
    assert [backoff(settings, attempts) for attempts in (1, 2, 3, 4)] == [5, 10, 20, 40]
