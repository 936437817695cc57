"""Custom webhook: POSTs exactly the payload of the seed's notification reference, with the channel's headers.

``Idempotency-Key: <event_id>:<channel_id>`` is the same on every retry, so a receiver can drop the duplicate
that at-least-once delivery may produce (the notifier died after sending but before recording it).
"""

from __future__ import annotations

from notifier.content import Notice
from notifier.senders.base import JsonPost, SendContext, post
from openstatus_common.notify import WebhookConfig

IDEMPOTENCY_HEADER = "Idempotency-Key"


def build_request(config: WebhookConfig, notice: Notice) -> JsonPost:
    headers = {IDEMPOTENCY_HEADER: notice.key}
    headers.update({header.key: header.value for header in config.headers})
    return JsonPost(url=config.endpoint, body=notice.alert.webhook_payload(), headers=headers)


async def send(ctx: SendContext, config: WebhookConfig, notice: Notice) -> None:
    await post(ctx, build_request(config, notice))
