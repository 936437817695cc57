"""The delivery rows: recording an alert for its channels, claiming due work, and recording the outcome.

One row per (event, channel) (unique), inserted with ON CONFLICT DO NOTHING, so a re-delivered event adds
nothing. A row moves pending -> sending (claimed, committed *before* the send) -> sent | failed, or back to
pending with a later ``next_attempt_at`` after a failure that may pass. A claim is a lease: ``next_attempt_at``
of a sending row is when it lapses, after which any notifier may claim the row again (its sender died).
Claims are conditional updates on (status, attempts), so two notifiers never claim the same row at once.

The life-cycle helpers (``insert_new``, ``claim_next``, ``settle``) also serve ``subscriber_deliveries``,
whose rows live the same life.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import (
    NotificationChannel,
    NotificationDelivery,
    SubscriberDelivery,
    monitor_notifications,
)
from openstatus_common.messages import Event, MonitorAlert
from openstatus_common.notify import Provider

OPEN = ("pending", "sending")
INSERT_BATCH = 500

# The tables whose rows live the pending -> sending -> sent | failed life.
Tracked = type[NotificationDelivery] | type[SubscriberDelivery]


@dataclass(frozen=True)
class Claimed:
    """A delivery this notifier now owns until ``lease_until``."""

    id: int
    event_id: str
    channel_id: int
    workspace_id: int
    provider: Provider
    config: dict[str, Any]
    payload: dict[str, Any]
    attempts: int  # including this one
    resumed: bool  # an earlier claim lapsed: that sender may have sent it already


async def record_alert(session: AsyncSession, event: Event, alert: MonitorAlert, *, now: datetime) -> int:
    """A pending delivery for every channel linked to the alert's monitor; returns how many channels."""
    monitor_id = event.monitor_id if event.monitor_id is not None else alert.monitor.id
    channel_ids = list(
        (
            await session.execute(
                select(NotificationChannel.id)
                .join(monitor_notifications, monitor_notifications.c.channel_id == NotificationChannel.id)
                .where(
                    monitor_notifications.c.monitor_id == monitor_id,
                    NotificationChannel.workspace_id == event.workspace_id,
                )
            )
        ).scalars()
    )
    if not channel_ids:
        return 0
    occurred = datetime.fromtimestamp(alert.cronTimestamp / 1000, tz=UTC)
    payload = {"kind": event.kind.value, "alert": alert.model_dump(mode="json")}
    rows = [
        {
            "event_id": event.event_id,
            "channel_id": channel_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "monitor_id": monitor_id,
            "occurred_at": occurred,
            "payload": payload,
            "created_at": now,
            "updated_at": now,
        }
        for channel_id in channel_ids
    ]
    await insert_new(session, NotificationDelivery, rows, unique=("event_id", "channel_id"))
    return len(channel_ids)


async def insert_new(
    session: AsyncSession, model: Tracked, rows: Sequence[dict[str, Any]], *, unique: tuple[str, str]
) -> None:
    """INSERT ... ON CONFLICT (``unique``) DO NOTHING, in batches: a row that exists already stays as it is."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), INSERT_BATCH):
        statement = (
            dialect.insert(model)
            .values(list(rows[start : start + INSERT_BATCH]))
            .on_conflict_do_nothing(index_elements=list(unique))
        )
        await session.execute(statement)


async def claim_rows(
    session: AsyncSession,
    model: Tracked,
    candidates: Iterable[tuple[int, str, int]],
    *,
    now: datetime,
    lease: timedelta,
) -> dict[int, bool]:
    """Claim each (id, status, attempts) candidate that is unchanged; {id: resumed} of those won."""
    won: dict[int, bool] = {}
    for delivery_id, status, attempts in candidates:
        result = await session.execute(
            update(model)
            .where(model.id == delivery_id, model.status == status, model.attempts == attempts)
            .values(status="sending", attempts=attempts + 1, next_attempt_at=now + lease, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            won[delivery_id] = status == "sending"
    return won


async def claim_next(
    session: AsyncSession,
    model: Tracked,
    blocked: ColumnElement[bool],
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> dict[int, bool]:
    """Claim up to ``limit`` due rows of ``model`` (oldest due first) that ``blocked`` does not hold back.

    Due: pending and past its ``next_attempt_at``, or sending with a lapsed claim.
    """
    candidates = (
        await session.execute(
            select(model.id, model.status, model.attempts)
            .where(model.status.in_(OPEN), model.next_attempt_at <= now, ~blocked)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        )
    ).all()
    return await claim_rows(
        session,
        model,
        [(id_, status, attempts) for id_, status, attempts in candidates],
        now=now,
        lease=lease,
    )


async def claim_due(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries (committed before returning).

    Due: pending and past its ``next_attempt_at``, or sending with a lapsed claim. A delivery waits while an
    earlier alert for the same monitor is still open on the same channel, so "recovered" never overtakes
    "down".
    """
    row = NotificationDelivery
    earlier = aliased(NotificationDelivery)
    blocked = exists().where(
        earlier.channel_id == row.channel_id,
        earlier.monitor_id == row.monitor_id,
        earlier.status.in_(OPEN),
        or_(
            earlier.occurred_at < row.occurred_at,
            and_(earlier.occurred_at == row.occurred_at, earlier.id < row.id),
        ),
    )
    async with unit_of_work(sessions) as session:
        won = await claim_next(session, row, blocked, now=now, lease=lease, limit=limit)
        if not won:
            return []
        rows = await session.execute(
            select(
                row,
                NotificationChannel.workspace_id,
                NotificationChannel.provider,
                NotificationChannel.config,
            )
            .join(NotificationChannel, NotificationChannel.id == row.channel_id)
            .where(row.id.in_(list(won)))
            .order_by(row.next_attempt_at, row.id)
        )
        return [
            Claimed(
                id=delivery.id,
                event_id=delivery.event_id,
                channel_id=delivery.channel_id,
                workspace_id=workspace_id,
                provider=Provider(provider),
                config=dict(config),
                payload=dict(delivery.payload),
                attempts=delivery.attempts,
                resumed=won[delivery.id],
            )
            for delivery, workspace_id, provider, config in rows
        ]


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    model: Tracked,
    delivery_id: int,
    attempts: int,
    values: dict[str, Any],
) -> bool:
    """Write the outcome if the claim is still ours (the same attempt is in flight); False otherwise."""
    async with unit_of_work(sessions) as session:
        result = await session.execute(
            update(model)
            .where(model.id == delivery_id, model.status == "sending", model.attempts == attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return getattr(result, "rowcount", 0) == 1


def sent_values(now: datetime) -> dict[str, Any]:
    return {"status": "sent", "sent_at": now, "next_attempt_at": None, "last_error": None, "updated_at": now}


def failed_values(error: str, *, now: datetime, retry_at: datetime | None) -> dict[str, Any]:
    """Back to pending until ``retry_at``; with no ``retry_at``, failed for good."""
    values: dict[str, Any] = {"last_error": error[:2000], "updated_at": now}
    if retry_at is None:
        values |= {"status": "failed", "next_attempt_at": None}
    else:
        values |= {"status": "pending", "next_attempt_at": retry_at}
    return values


async def mark_sent(sessions: async_sessionmaker[AsyncSession], claimed: Claimed, *, now: datetime) -> bool:
    return await settle(sessions, NotificationDelivery, claimed.id, claimed.attempts, sent_values(now))


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    claimed: Claimed,
    *,
    error: str,
    now: datetime,
    retry_at: datetime | None,
) -> bool:
    """Back to pending until ``retry_at``; with no ``retry_at``, failed for good."""
    values = failed_values(error, now=now, retry_at=retry_at)
    return await settle(sessions, NotificationDelivery, claimed.id, claimed.attempts, values)
