"""A service process whose one worker consumes EVENTS slowly and records each message it finished.

Used to check that SIGTERM mid-batch loses nothing: finished ids go to the DONE stream (deduplicated).
"""

from __future__ import annotations

import asyncio

from nats.js.api import StreamConfig

from openstatus_common.bus import Consumer, ConsumerSpec, Delivery
from openstatus_common.messages import Event
from openstatus_common.service import ServiceContext, main_for


async def consume(ctx: ServiceContext) -> None:
    await ctx.bus.js.add_stream(StreamConfig(name="DONE", subjects=["done.>"], duplicate_window=600))

    async def handler(delivery: Delivery[Event]) -> None:
        await asyncio.sleep(0.2)  # slow enough that SIGTERM lands mid-batch
        event_id = delivery.message.event_id
        await ctx.bus.publish(f"done.{event_id}", b"", msg_id=event_id)

    spec = ConsumerSpec(
        stream="EVENTS", durable="sigterm-test", filter_subject="events.>", concurrency=4, ack_wait=5.0
    )
    await Consumer(ctx.bus, spec, Event, handler, shutdown_timeout=ctx.settings.shutdown_timeout).run(
        ctx.stop
    )


if __name__ == "__main__":
    main_for("sigterm-worker", port=lambda settings: settings.scheduler_port, workers=[consume])
