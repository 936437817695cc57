"""PagerDuty Events API v2: error and degraded trigger, recovery resolves, one dedup key per monitor.

Sent with httpx rather than apprise: apprise's plugin insists on a REST API key the Events API does not use,
and the dedup key is what makes a re-sent trigger harmless (PagerDuty folds it into the open alert).
"""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, checked_at, render
from notifier.senders.base import JsonPost, SendContext, clip, post
from openstatus_common.notify import PagerDutyConfig

SEVERITY = {"error": "critical", "degraded": "warning", "test": "info"}


def dedup_key(notice: Notice) -> str:
    return f"openstatus-test-{notice.key}" if notice.test else f"openstatus-monitor-{notice.alert.monitor.id}"


def trigger_body(key: str, message: Message, dedup: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "client": "openstatus",
        "payload": {
            "summary": clip(message.summary, 1024),
            "source": message.alert.monitor.url,
            "severity": SEVERITY.get(message.tone, "info"),
            "timestamp": checked_at(message.alert).isoformat(),
            "component": message.alert.monitor.name,
            "custom_details": dict(message.facts),
        },
    }
    if message.link:
        body["client_url"] = message.link
        body["links"] = [{"href": message.link, "text": "View monitor"}]
    return body


def resolve_body(key: str, dedup: str) -> dict[str, Any]:
    return {"routing_key": key, "event_action": "resolve", "dedup_key": dedup}


def build_requests(config: PagerDutyConfig, notice: Notice, url: str) -> list[JsonPost]:
    """Trigger or resolve; a test triggers then resolves its own key, so nothing is left open."""
    message = render(notice)
    dedup = dedup_key(notice)
    key = config.integrationKey
    if notice.test:
        return [JsonPost(url, trigger_body(key, message, dedup)), JsonPost(url, resolve_body(key, dedup))]
    if message.tone == "recovered":
        return [JsonPost(url, resolve_body(key, dedup))]
    return [JsonPost(url, trigger_body(key, message, dedup))]


async def send(ctx: SendContext, config: PagerDutyConfig, notice: Notice) -> None:
    for request in build_requests(config, notice, ctx.endpoints.pagerduty):
        await post(ctx, request)
