"""``subscriber_deliveries``: queueing a page mail for its subscribers, claiming due mail, recording outcomes.

One row per (key, subscriber) (unique), inserted with ON CONFLICT DO NOTHING, so a re-delivered event, a
second publish of it or a second notifier adds nothing. The rows live the life of alert deliveries
(``notifier.deliveries``: pending -> sending -> sent | failed, leases, conditional claims), with the same
helpers. A mail to a subscriber waits while an earlier one to the same subscriber is still open, so a
report's "resolved" never arrives before its "investigating".

Keys: ``report.updated:<update id>`` (a report's first update and every later one), ``maintenance.scheduled:
<id>``, ``maintenance.updated:<id>:<event id>``, ``maintenance.reminder:<id>:<start, YYYYMMDDTHHMM>`` and
``subscriber.confirm:<subscriber id>:<token digest>`` (a new token, i.e. a new subscription, is a new mail).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from notifier.deliveries import OPEN, claim_next, failed_values, insert_new, sent_values, settle
from notifier.subscribers.content import ConfirmMail, MaintenanceMail, ReportMail
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import PageSubscriber, StatusPage, SubscriberDelivery
from openstatus_common.pages.subscribers import email_domain_allowed

MAX_KEY = 255


def report_key(update_id: int) -> str:
    return f"report.updated:{update_id}"


def maintenance_scheduled_key(maintenance_id: int) -> str:
    return f"maintenance.scheduled:{maintenance_id}"


def maintenance_updated_key(maintenance_id: int, event_id: str) -> str:
    key = f"maintenance.updated:{maintenance_id}:{event_id}"
    if len(key) <= MAX_KEY:
        return key
    return f"maintenance.updated:{maintenance_id}:{_digest(event_id)}"


def maintenance_reminder_key(maintenance_id: int, starts_at: datetime) -> str:
    # The start time in the key: a maintenance moved after its reminder (the API clears reminder_sent_at
    # then) is a new reminder, not a duplicate of the first.
    if starts_at.tzinfo is not None:
        starts_at = starts_at.astimezone(UTC)
    return f"maintenance.reminder:{maintenance_id}:{starts_at:%Y%m%dT%H%M}"


def confirm_key(subscriber_id: int, token: str) -> str:
    # A digest, not the token: keys are logged and shown, the token is the subscriber's secret.
    return f"subscriber.confirm:{subscriber_id}:{_digest(token)[:16]}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class ClaimedMail:
    """A subscriber delivery this notifier now owns, with the subscriber as it is now."""

    id: int
    key: str
    subscriber_id: int
    email: str
    token: str
    confirmed: bool  # accepted and not unsubscribed
    pending: bool  # neither accepted nor unsubscribed: waiting for the confirmation
    payload: dict[str, Any]
    attempts: int  # including this one
    resumed: bool  # an earlier claim lapsed: that sender may have sent it already


async def queue(
    session: AsyncSession,
    mail: ReportMail | MaintenanceMail | ConfirmMail,
    *,
    key: str,
    page_id: int,
    now: datetime,
    subscriber_id: int | None = None,
) -> int:
    """A pending mail for every confirmed subscriber of the page (or for ``subscriber_id`` alone).

    Returns how many subscribers it is for; those who have it already keep their row as it is.
    """
    if subscriber_id is None:
        ids = await confirmed_subscribers(session, page_id)
    else:
        ids = [subscriber_id]
    if not ids:
        return 0
    payload = mail.model_dump(mode="json")
    rows = [
        {
            "key": key,
            "subscriber_id": subscriber,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "payload": payload,
            "created_at": now,
            "updated_at": now,
        }
        for subscriber in ids
    ]
    await insert_new(session, SubscriberDelivery, rows, unique=("key", "subscriber_id"))
    return len(ids)


async def confirmed_subscribers(session: AsyncSession, page_id: int) -> list[int]:
    """The page's confirmed subscribers, in id order; on an ``email-domain`` page only those whose address is
    still of one of its domains (a domain the page dropped takes its subscribers' mail with it)."""
    page = (
        await session.execute(
            select(StatusPage.access_type, StatusPage.auth_email_domains).where(StatusPage.id == page_id)
        )
    ).first()
    if page is None:
        return []
    rows = await session.execute(
        select(PageSubscriber.id, PageSubscriber.email)
        .where(
            PageSubscriber.page_id == page_id,
            PageSubscriber.accepted_at.is_not(None),
            PageSubscriber.unsubscribed_at.is_(None),
        )
        .order_by(PageSubscriber.id)
    )
    if page.access_type != "email-domain":
        return [row.id for row in rows]
    domains = list(page.auth_email_domains or [])
    return [row.id for row in rows if email_domain_allowed(row.email, domains)]


async def claim_due(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedMail]:
    """Claim up to ``limit`` due mails (committed before returning), oldest first, one open mail per subscriber."""
    row = SubscriberDelivery
    earlier = aliased(SubscriberDelivery)
    blocked = exists().where(
        earlier.subscriber_id == row.subscriber_id, earlier.status.in_(OPEN), earlier.id < row.id
    )
    async with unit_of_work(sessions) as session:
        won = await claim_next(session, row, blocked, now=now, lease=lease, limit=limit)
        if not won:
            return []
        rows = await session.execute(
            select(row, PageSubscriber)
            .join(PageSubscriber, PageSubscriber.id == row.subscriber_id)
            .where(row.id.in_(list(won)))
            .order_by(row.next_attempt_at, row.id)
        )
        return [
            ClaimedMail(
                id=delivery.id,
                key=delivery.key,
                subscriber_id=subscriber.id,
                email=subscriber.email,
                token=subscriber.token,
                confirmed=subscriber.accepted_at is not None and subscriber.unsubscribed_at is None,
                pending=subscriber.accepted_at is None and subscriber.unsubscribed_at is None,
                payload=dict(delivery.payload),
                attempts=delivery.attempts,
                resumed=won[delivery.id],
            )
            for delivery, subscriber in rows
        ]


async def mark_sent(
    sessions: async_sessionmaker[AsyncSession], claimed: ClaimedMail, *, now: datetime
) -> bool:
    return await settle(sessions, SubscriberDelivery, claimed.id, claimed.attempts, sent_values(now))


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    claimed: ClaimedMail,
    *,
    error: str,
    now: datetime,
    retry_at: datetime | None,
) -> bool:
    values = failed_values(error, now=now, retry_at=retry_at)
    return await settle(sessions, SubscriberDelivery, claimed.id, claimed.attempts, values)


async def mark_skipped(
    sessions: async_sessionmaker[AsyncSession], claimed: ClaimedMail, *, reason: str, now: datetime
) -> bool:
    """Done without sending (the subscriber left meanwhile): status sent, no ``sent_at``, the reason noted."""
    values = sent_values(now) | {"sent_at": None, "last_error": f"skipped: {reason}"}
    return await settle(sessions, SubscriberDelivery, claimed.id, claimed.attempts, values)
