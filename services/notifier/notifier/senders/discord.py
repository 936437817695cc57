"""Discord channel webhook: one embed coloured by status. Sent with httpx to the configured URL (apprise's
Discord plugin only posts to discord.com)."""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, checked_at, render
from notifier.senders.base import JsonPost, SendContext, clip, post
from openstatus_common.notify import DiscordConfig

COLOURS = {"error": 0xED4245, "degraded": 0xFEE75C, "recovered": 0x57F287, "test": 0x5865F2}


def build_body(message: Message) -> dict[str, Any]:
    embed: dict[str, Any] = {
        "title": clip(message.title, 256),
        "color": COLOURS[message.tone],
        "fields": [
            {"name": clip(label, 256), "value": clip(value, 1024), "inline": len(value) <= 40}
            for label, value in message.facts[:25]
        ],
        "timestamp": checked_at(message.alert).isoformat(),
        "footer": {"text": "openstatus"},
    }
    if message.link:
        embed["url"] = message.link
    # No @everyone or role pings from text we did not write (monitor names, error messages).
    return {"username": "openstatus", "embeds": [embed], "allowed_mentions": {"parse": []}}


def build_request(config: DiscordConfig, notice: Notice) -> JsonPost:
    return JsonPost(url=config.webhookUrl, body=build_body(render(notice)))


async def send(ctx: SendContext, config: DiscordConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
