"""The EVENTS consumer: turns each monitor alert into one pending delivery per linked channel.

The message is acked once the rows are committed (the database is the work queue from then on), so a slow
channel never holds the event, and a re-delivered event adds nothing (one row per event and channel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import deliveries
from openstatus_common.bus import ConsumerSpec, Delivery, Reject
from openstatus_common.bus.consumer import summarize_validation_error
from openstatus_common.bus.streams import StreamName
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.messages import Event, EventKind, MonitorAlert
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

ALERT_KINDS = frozenset({EventKind.MONITOR_ERROR, EventKind.MONITOR_DEGRADED, EventKind.MONITOR_RECOVERED})
# A first start replays the EVENTS stream (30 days): alerts older than this are history, not news.
MAX_ALERT_AGE = timedelta(hours=24)


def consumer_spec(settings: Settings) -> ConsumerSpec:
    return ConsumerSpec(
        stream=StreamName.EVENTS.value,
        durable="notifier",
        filter_subject="events.monitor.>",
        max_deliveries=settings.bus_max_deliveries,
        ack_wait=settings.bus_ack_wait,
        # One event at a time (a small insert each): alerts are recorded in the order they were published,
        # so a monitor's "recovered" row never exists before its "down" row on one notifier.
        concurrency=1,
    )


def handler(
    sessions: async_sessionmaker[AsyncSession], on_recorded: Callable[[], None]
) -> Callable[[Delivery[Event]], Awaitable[None]]:
    async def handle(delivery: Delivery[Event]) -> None:
        event = delivery.message
        if event.kind not in ALERT_KINDS:
            return  # other monitor events (monitor.changed) are not alerts
        try:
            alert = MonitorAlert.model_validate(event.data)
        except ValidationError as error:
            raise Reject(f"invalid alert: {summarize_validation_error(error)}") from None
        now = utcnow()
        if now - event.occurred_at > MAX_ALERT_AGE:
            log.warning("intake.stale_alert_skipped", event_id=event.event_id, occurred_at=event.occurred_at)
            return
        async with unit_of_work(sessions) as session:
            channels = await deliveries.record_alert(session, event, alert, now=now)
        if channels:
            on_recorded()
        log.info("intake.recorded", event_id=event.event_id, kind=event.kind.value, channels=channels)

    return handle
