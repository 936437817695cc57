"""Keeps the page cache honest: every event about a page or one of its monitors drops what it changed.

At start it also loads the most recently changed pages, so their first visitors find them ready. A plain NATS
subscription on ``events.>`` in each replica (no durable consumer: a replica that was away has
nothing cached to correct, and the cache's time limit covers a missed message).
"""

from __future__ import annotations

import asyncio

import structlog
from nats.aio.msg import Msg
from pydantic import ValidationError

from openstatus_common.messages import Event
from openstatus_common.service import ServiceContext
from status_page.store import PageStore

log = structlog.get_logger(__name__)


def apply_event(store: PageStore, event: Event) -> None:
    page_id = event.data.get("page_id")
    if isinstance(page_id, int):
        store.invalidate_page(page_id)
    elif event.monitor_id is not None:
        store.invalidate_monitor(event.monitor_id)


async def listen(ctx: ServiceContext, store: PageStore, *, warmed: asyncio.Event | None = None) -> None:
    """Expire pages as events name them until ``ctx.stop``; ``warmed`` is set once the pre-warm is over."""

    async def on_message(message: Msg) -> None:
        try:
            event = Event.model_validate_json(message.data)
        except ValidationError:
            log.warning("pages.bad_event", subject=message.subject)
            return
        apply_event(store, event)

    subscription = await ctx.bus.nc.subscribe("events.>", cb=on_message)
    try:
        try:
            log.info("pages.prewarmed", pages=await store.prewarm())
        except Exception as error:  # the database is away: pages load on demand once it is back
            log.warning("pages.prewarm_failed", error=repr(error))
        if warmed is not None:
            warmed.set()
        await ctx.stop.wait()
    finally:
        await asyncio.shield(subscription.unsubscribe())
