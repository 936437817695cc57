"""Microsoft Teams through a Workflows (Power Automate) webhook: an Adaptive Card in a message.

Posted with httpx to the configured URL; apprise's Workflows plugin needs the URL taken apart and always
uses https on its own path layout.
"""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, render
from notifier.senders.base import JsonPost, SendContext, post
from openstatus_common.notify import MsTeamsConfig

COLOURS = {"error": "Attention", "degraded": "Warning", "recovered": "Good", "test": "Accent"}


def build_body(message: Message) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Large",
                "weight": "Bolder",
                "wrap": True,
                "color": COLOURS[message.tone],
                "text": message.title,
            },
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in message.facts],
            },
        ],
    }
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "View monitor", "url": message.link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def build_request(config: MsTeamsConfig, notice: Notice) -> JsonPost:
    return JsonPost(url=config.webhookUrl, body=build_body(render(notice)))


async def send(ctx: SendContext, config: MsTeamsConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
