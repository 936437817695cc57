"""Opsgenie Alert API: error and degraded create an alert, recovery closes it, by a per-monitor alias.

Sent with httpx rather than apprise: apprise closes only alerts whose ids it kept in its own local store, which
a restarted or second notifier does not have; closing by alias needs no state. Opsgenie folds a re-sent
create with the same alias into the open alert.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from notifier.content import Message, Notice, render
from notifier.senders.base import JsonPost, SendContext, clip, post
from openstatus_common.notify import OpsgenieConfig

PRIORITY = {"error": "P1", "degraded": "P3", "test": "P5"}


def alias(notice: Notice) -> str:
    return f"openstatus-test-{notice.key}" if notice.test else f"openstatus-monitor-{notice.alert.monitor.id}"


def create_body(message: Message, alias_: str) -> dict[str, Any]:
    return {
        "message": clip(message.title, 130),
        "alias": alias_,
        "description": clip(message.text(), 15000),
        "priority": PRIORITY.get(message.tone, "P3"),
        "source": "openstatus",
        "tags": ["openstatus", message.tone],
        "details": {label: clip(value, 8000) for label, value in message.facts},
    }


def build_requests(config: OpsgenieConfig, notice: Notice, base_url: str) -> list[JsonPost]:
    message = render(notice)
    key = alias(notice)
    headers = {"Authorization": f"GenieKey {config.apiKey}"}
    create = JsonPost(f"{base_url}/v2/alerts", create_body(message, key), headers)
    close = JsonPost(
        f"{base_url}/v2/alerts/{quote(key, safe='')}/close",
        {"source": "openstatus", "note": clip(message.text(), 25000)},
        headers,
        {"identifierType": "alias"},
    )
    if notice.test:
        return [create, close]
    return [close] if message.tone == "recovered" else [create]


async def send(ctx: SendContext, config: OpsgenieConfig, notice: Notice) -> None:
    base = ctx.endpoints.opsgenie_eu if config.region == "eu" else ctx.endpoints.opsgenie_us
    for request in build_requests(config, notice, base):
        await post(ctx, request)
