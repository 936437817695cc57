"""Grafana OnCall "formatted webhook": alerts grouped per monitor by ``alert_uid``; recovery resolves."""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, render
from notifier.senders.base import JsonPost, SendContext, post
from openstatus_common.notify import GrafanaOncallConfig


def alert_uid(notice: Notice) -> str:
    return f"openstatus-test-{notice.key}" if notice.test else f"openstatus-monitor-{notice.alert.monitor.id}"


def build_body(message: Message, uid: str) -> dict[str, Any]:
    return {
        "alert_uid": uid,
        "title": message.title,
        "state": "ok" if message.tone in ("recovered", "test") else "alerting",
        "message": message.text(),
        "link_to_upstream_details": message.link,
        "image_url": None,
    }


def build_request(config: GrafanaOncallConfig, notice: Notice) -> JsonPost:
    return JsonPost(url=config.webhookUrl, body=build_body(render(notice), alert_uid(notice)))


async def send(ctx: SendContext, config: GrafanaOncallConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
