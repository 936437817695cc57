"""The notifier's one worker: the EVENTS consumer, the dispatcher and the send-test responder, together.

They share one HTTP connection pool and one dispatcher; if any of them fails, the others stop and the process
exits so the supervisor restarts it cleanly.
"""

from __future__ import annotations

import asyncio
import logging

from notifier import intake
from notifier.dispatcher import Dispatcher
from notifier.senders import Endpoints, open_context
from notifier.sendtest import serve_tests
from openstatus_common.bus import Consumer
from openstatus_common.messages import Event
from openstatus_common.service import ServiceContext


def quiet_http_logs() -> None:
    # httpx logs every request line at INFO, URL included: webhook URLs are secrets.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def run_notifier(
    ctx: ServiceContext, *, poll_interval: float = 1.0, endpoints: Endpoints | None = None
) -> None:
    quiet_http_logs()
    async with open_context(ctx.settings, endpoints) as senders:
        dispatcher = Dispatcher(ctx.sessions, senders, poll_interval=poll_interval)
        consumer = Consumer(
            bus=ctx.bus,
            spec=intake.consumer_spec(ctx.settings),
            model=Event,
            handler=intake.handler(ctx.sessions, dispatcher.kick),
            shutdown_timeout=ctx.settings.shutdown_timeout,
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(consumer.run(ctx.stop))
            group.create_task(dispatcher.run(ctx.stop))
            group.create_task(serve_tests(ctx.bus, senders, ctx.stop))
