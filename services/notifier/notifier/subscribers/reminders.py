"""The maintenance reminder: "starts soon" mail, once per maintenance start, ``maintenance_reminder_minutes``
ahead.

Every ``interval`` seconds the sweep looks for maintenances that start within the lead time (and have not
started), were announced to subscribers (``notify`` on create or on a later update) and were not reminded
yet. For each, one transaction marks ``reminder_sent_at`` with a conditional UPDATE (``WHERE
reminder_sent_at IS NULL``) and, only if that UPDATE took the row, queues the reminder for every confirmed
subscriber of the page: two notifiers sweeping at once remind once. A maintenance the operator did not
announce is never mailed about, and one scheduled or last changed within the lead time gets no separate
reminder: its announcement was mail enough. A lead time of 0 turns them off;
so does a deployment without SMTP (nothing is marked, so configuring SMTP later still reminds).

A maintenance moved to another start is reminded again: the API clears ``reminder_sent_at`` when the window
changes, and the mail's key carries the start (``queue.maintenance_reminder_key``), so the new reminder is not
taken for a repeat of the first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.subscribers import compose, queue
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import Maintenance, StatusPage
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

INTERVAL_S = 30.0
BATCH = 100


async def sweep(sessions: async_sessionmaker[AsyncSession], settings: Settings, *, now: datetime) -> int:
    """Queue the reminders that are due; returns how many maintenances this call reminded."""
    if settings.maintenance_reminder_minutes <= 0 or not settings.smtp_host:
        return 0
    horizon = now + timedelta(minutes=settings.maintenance_reminder_minutes)
    async with unit_of_work(sessions) as session:
        due = list(
            (
                await session.execute(
                    select(Maintenance.id)
                    .where(
                        Maintenance.notify,
                        Maintenance.reminder_sent_at.is_(None),
                        Maintenance.starts_at > now,
                        Maintenance.starts_at <= horizon,
                    )
                    .order_by(Maintenance.starts_at, Maintenance.id)
                    .limit(BATCH)
                )
            ).scalars()
        )
    reminded = 0
    for maintenance_id in due:
        async with unit_of_work(sessions) as session:
            subscribers = await remind(session, settings, maintenance_id, now=now)
        if subscribers is None:
            continue  # another notifier took it
        reminded += 1
        log.info("reminders.queued", maintenance_id=maintenance_id, subscribers=subscribers)
    return reminded


async def remind(
    session: AsyncSession, settings: Settings, maintenance_id: int, *, now: datetime
) -> int | None:
    """Mark the maintenance reminded and queue its reminder; None when it was reminded already."""
    taken = await session.execute(
        update(Maintenance)
        .where(Maintenance.id == maintenance_id, Maintenance.reminder_sent_at.is_(None))
        # Bookkeeping, not an edit of the maintenance: its updated_at stays as its author left it.
        .values(reminder_sent_at=now, updated_at=Maintenance.updated_at)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    found = (
        await session.execute(
            select(
                Maintenance.page_id, StatusPage.workspace_id, Maintenance.updated_at, Maintenance.starts_at
            )
            .join(StatusPage, StatusPage.id == Maintenance.page_id)
            .where(Maintenance.id == maintenance_id)
        )
    ).first()
    if found is None:
        return 0
    page_id, workspace_id, announced_at, starts_at = found
    if announced_at > starts_at - timedelta(minutes=settings.maintenance_reminder_minutes):
        # Scheduled (or moved) within the lead time: its announcement is the reminder; no second mail.
        return 0
    mail = await compose.maintenance_mail(
        session,
        settings,
        workspace_id=workspace_id,
        page_id=page_id,
        maintenance_id=maintenance_id,
        stage="reminder",
    )
    if mail is None:
        return 0
    return await queue.queue(
        session, mail, key=queue.maintenance_reminder_key(maintenance_id, starts_at), page_id=page_id, now=now
    )


async def run(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    *,
    on_queued: Callable[[], None],
    interval: float = INTERVAL_S,
) -> None:
    """Sweep at once, then every ``interval`` seconds, until ``stop``."""
    log.info("reminders.started", lead_minutes=settings.maintenance_reminder_minutes)
    while not stop.is_set():
        try:
            if await sweep(sessions, settings, now=utcnow()):
                on_queued()
        except Exception as error:  # the database is away: try again at the next sweep
            log.warning("reminders.sweep_failed", error=repr(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    log.info("reminders.stopped")
