"""Publishing decided events after their commit, at least once, through the ``event_outbox`` table.

Every writer of events uses it: the incident engine for incidents, the API for reports, maintenances, pages
and subscribers. The incident engine runs the ``sweep`` for all of them.

``stage`` adds events to the decision's transaction. After the commit, ``publish_pending`` publishes the
staged rows in order with ``msg_id`` = ``event_id`` and deletes them. If publishing fails the rows stay:
the redelivered result publishes them again (the consumer calls ``publish_pending`` for the monitor), and
``sweep`` publishes anything older than a few seconds. JetStream's duplicate window (10 minutes on EVENTS)
turns those repeats into one stored event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import event_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import EventOutbox
from openstatus_common.messages import Event

log = structlog.get_logger(__name__)

BATCH = 500


def stage(session: AsyncSession, events: Iterable[Event]) -> None:
    """Add ``events`` to the session's transaction; they are published only if it commits."""
    session.add_all(EventOutbox.from_event(event) for event in events)


async def publish_pending(
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    *,
    monitor_id: int | None = None,
    older_than: timedelta | None = None,
) -> int:
    """Publish staged events (one monitor's, or all older than ``older_than``), oldest first; return how many."""
    query = select(EventOutbox.id, EventOutbox.event_id, EventOutbox.subject, EventOutbox.payload)
    if monitor_id is not None:
        query = query.where(EventOutbox.monitor_id == monitor_id)
    if older_than is not None:
        query = query.where(EventOutbox.created_at < utcnow() - older_than)
    async with sessions() as session:
        rows = (await session.execute(query.order_by(EventOutbox.id).limit(BATCH))).all()
    if not rows:
        return 0
    for row in rows:
        await bus.publish(row.subject, row.payload.encode(), msg_id=row.event_id)
    async with unit_of_work(sessions) as session:
        await session.execute(delete(EventOutbox).where(EventOutbox.id.in_([row.id for row in rows])))
    return len(rows)


async def sweep(bus: Bus, sessions: async_sessionmaker[AsyncSession], *, older_than: timedelta) -> int:
    """Publish every event left behind by a failed publish or a crash; return how many."""
    total = 0
    while published := await publish_pending(bus, sessions, older_than=older_than):
        total += published
        if published < BATCH:
            break
    if total:
        log.info("outbox.swept", published=total)
    return total


async def publish_staged(bus: Bus, sessions: async_sessionmaker[AsyncSession], events: list[Event]) -> None:
    """After the commit: publish the events just staged, then drop them from the outbox.

    A failure is logged, not raised: the change is committed and the sweep publishes what is left.
    """
    if not events:
        return
    try:
        for event in events:
            await bus.publish(event_subject(event.kind.value), event, msg_id=event.event_id)
        async with unit_of_work(sessions) as session:
            ids = [event.event_id for event in events]
            await session.execute(delete(EventOutbox).where(EventOutbox.event_id.in_(ids)))
    except Exception as error:
        log.warning("outbox.publish_deferred", events=len(events), error=repr(error))
