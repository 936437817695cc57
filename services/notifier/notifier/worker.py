"""The notifier's one worker: the EVENTS consumers, the dispatcher, the mailer, the maintenance reminder sweep
and the send-test responder, together.

Alerts: the ``notifier`` consumer records monitor alerts, the dispatcher sends them to channels. Status-page
subscribers: three consumers record report, maintenance and subscription mail, the reminder sweep adds the
"starts soon" mail, the mailer sends them. They share one HTTP connection pool; if any of them fails, the
others stop and the process exits so the supervisor restarts it cleanly.
"""

from __future__ import annotations

import asyncio
import logging

from notifier import intake
from notifier.dispatcher import Dispatcher
from notifier.senders import Endpoints, open_context
from notifier.sendtest import serve_tests
from notifier.subscribers import intake as subscriber_intake
from notifier.subscribers import reminders
from notifier.subscribers.mailer import Mailer
from openstatus_common.bus import Consumer
from openstatus_common.messages import Event
from openstatus_common.service import ServiceContext


def quiet_http_logs() -> None:
    # httpx logs every request line at INFO, URL included: webhook URLs are secrets.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def run_notifier(
    ctx: ServiceContext,
    *,
    poll_interval: float = 1.0,
    endpoints: Endpoints | None = None,
    reminder_interval: float = reminders.INTERVAL_S,
) -> None:
    quiet_http_logs()
    settings = ctx.settings
    async with open_context(settings, endpoints) as senders:
        dispatcher = Dispatcher(ctx.sessions, senders, poll_interval=poll_interval)
        mailer = Mailer(ctx.sessions, settings, poll_interval=poll_interval)
        consumers = [
            Consumer(
                bus=ctx.bus,
                spec=intake.consumer_spec(settings),
                model=Event,
                handler=intake.handler(ctx.sessions, dispatcher.kick),
                shutdown_timeout=settings.shutdown_timeout,
            )
        ]
        page_mail = subscriber_intake.handler(ctx.sessions, settings, mailer.kick)
        consumers += [
            Consumer(
                bus=ctx.bus,
                spec=spec,
                model=Event,
                handler=page_mail,
                shutdown_timeout=settings.shutdown_timeout,
            )
            for spec in subscriber_intake.consumer_specs(settings)
        ]
        async with asyncio.TaskGroup() as group:
            for consumer in consumers:
                group.create_task(consumer.run(ctx.stop))
            group.create_task(dispatcher.run(ctx.stop))
            group.create_task(mailer.run(ctx.stop))
            group.create_task(
                reminders.run(
                    ctx.sessions, settings, ctx.stop, on_queued=mailer.kick, interval=reminder_interval
                )
            )
            group.create_task(serve_tests(ctx.bus, senders, ctx.stop))
