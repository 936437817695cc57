"""Google Chat space webhook: a text message. The user gives the full URL (with its key and token), so it is
posted as is with httpx; apprise's plugin rebuilds the URL on chat.googleapis.com."""

from __future__ import annotations

from typing import Any

from notifier.content import Message, Notice, render
from notifier.senders.base import JsonPost, SendContext, clip, post
from openstatus_common.notify import GoogleChatConfig


def build_body(message: Message) -> dict[str, Any]:
    return {"text": clip(f"*{message.title}*\n{message.text()}", 4000)}


def build_request(config: GoogleChatConfig, notice: Notice) -> JsonPost:
    return JsonPost(url=config.webhookUrl, body=build_body(render(notice)))


async def send(ctx: SendContext, config: GoogleChatConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
