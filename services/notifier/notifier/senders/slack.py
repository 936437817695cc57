"""Slack incoming webhook (Mattermost and Rocket.Chat accept the same body): Block Kit with a text fallback.

Sent with httpx to the configured URL: apprise's Slack plugin only posts to hooks.slack.com, which would rule
out Slack-compatible servers and local receivers.
"""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, render
from notifier.senders.base import JsonPost, SendContext, clip, post
from openstatus_common.notify import SlackConfig

ICONS = {"error": ":red_circle:", "degraded": ":large_yellow_circle:", "recovered": ":large_green_circle:"}


def escape(text: str) -> str:
    """Slack's mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_body(message: Message) -> dict[str, Any]:
    icon = ICONS.get(message.tone, ":information_source:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(message.title, 150)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*{escape(label)}*\n{escape(value)}", 2000)}
                for label, value in message.facts[:10]
            ],
        },
    ]
    if message.link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{message.link}|View monitor> · openstatus"}],
            }
        )
    return {"text": f"{icon} {escape(message.summary)}", "blocks": blocks}


def build_request(config: SlackConfig, notice: Notice) -> JsonPost:
    return JsonPost(url=config.webhookUrl, body=build_body(render(notice)))


async def send(ctx: SendContext, config: SlackConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
