"""The status-page events consumers: turn a report, maintenance or subscription event into queued mail.

Three durable consumers on the EVENTS stream (``events.report.>``, ``events.maintenance.>``,
``events.subscriber.>``) share one handler. In one transaction it reads what the event is about and queues a
mail for every confirmed subscriber of the page (for ``subscriber.pending``: the confirmation, to that
subscriber alone); the message is acked once that is committed, and a re-delivered event adds nothing (one
row per key and subscriber). Report and maintenance events with ``notify`` false queue nothing; so do events
older than a day (a first start replays the stream) and, when the deployment has no SMTP server, every event.
Malformed data, or ids that do not belong together, are dead-lettered with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.subscribers import compose, queue
from notifier.subscribers.content import ConfirmMail, MaintenanceMail, ReportMail
from openstatus_common.bus import ConsumerSpec, Delivery, Reject
from openstatus_common.bus.consumer import summarize_validation_error
from openstatus_common.bus.streams import StreamName
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import PageSubscriber
from openstatus_common.messages import Event, EventKind
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

# (durable name, subject filter): one consumer per family of page events.
CONSUMERS = (
    ("notifier-reports", "events.report.>"),
    ("notifier-maintenances", "events.maintenance.>"),
    ("notifier-subscribers", "events.subscriber.>"),
)
REPORT_KINDS = frozenset({EventKind.REPORT_PUBLISHED, EventKind.REPORT_UPDATED})
MAINTENANCE_KINDS = frozenset({EventKind.MAINTENANCE_SCHEDULED, EventKind.MAINTENANCE_UPDATED})
MAIL_KINDS = REPORT_KINDS | MAINTENANCE_KINDS | {EventKind.SUBSCRIBER_PENDING}
# A first start replays the EVENTS stream (30 days): announcements older than this are history, not news.
MAX_EVENT_AGE = timedelta(hours=24)


class ReportData(BaseModel):
    page_id: int
    report_id: int
    update_id: int
    notify: bool


class MaintenanceData(BaseModel):
    page_id: int
    maintenance_id: int
    notify: bool


class SubscriberData(BaseModel):
    page_id: int
    subscriber_id: int


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            stream=StreamName.EVENTS.value,
            durable=durable,
            filter_subject=subject,
            max_deliveries=settings.bus_max_deliveries,
            ack_wait=settings.bus_ack_wait,
            # One event at a time per family: a report's updates are queued in the order they were published.
            concurrency=1,
        )
        for durable, subject in CONSUMERS
    ]


def handler(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, on_recorded: Callable[[], None]
) -> Callable[[Delivery[Event]], Awaitable[None]]:
    async def handle(delivery: Delivery[Event]) -> None:
        event = delivery.message
        if event.kind not in MAIL_KINDS:
            return  # page.changed, report.deleted, maintenance.deleted: nothing to mail
        bound_log = log.bind(event_id=event.event_id, kind=event.kind.value)
        data = parse(event)
        if not isinstance(data, SubscriberData) and not data.notify:
            bound_log.debug("subscribers.not_notified")
            return
        now = utcnow()
        if now - event.occurred_at > MAX_EVENT_AGE:
            bound_log.warning("subscribers.stale_event_skipped", occurred_at=event.occurred_at)
            return
        if not settings.smtp_host:
            bound_log.warning("subscribers.smtp_not_configured")
            return
        try:
            async with unit_of_work(sessions) as session:
                count = await record(session, settings, event, data, now=now)
        except compose.Inconsistent as error:
            raise Reject(str(error)) from None
        if count is None:
            bound_log.info("subscribers.subject_gone")
            return
        if count:
            on_recorded()
        bound_log.info("subscribers.recorded", subscribers=count)

    return handle


def parse(event: Event) -> ReportData | MaintenanceData | SubscriberData:
    """The event's data, or ``Reject`` when it is malformed."""
    model: type[ReportData] | type[MaintenanceData] | type[SubscriberData]
    if event.kind in REPORT_KINDS:
        model = ReportData
    elif event.kind in MAINTENANCE_KINDS:
        model = MaintenanceData
    else:
        model = SubscriberData
    try:
        return model.model_validate(event.data)
    except ValidationError as error:
        raise Reject(f"invalid {event.kind.value} data: {summarize_validation_error(error)}") from None


async def record(
    session: AsyncSession,
    settings: Settings,
    event: Event,
    data: ReportData | MaintenanceData | SubscriberData,
    *,
    now: datetime,
) -> int | None:
    """Queue the event's mail; how many subscribers it is for, or None when what it announces is gone."""
    workspace_id = event.workspace_id
    mail: ReportMail | MaintenanceMail | ConfirmMail | None
    if isinstance(data, ReportData):
        mail = await compose.report_mail(
            session,
            settings,
            workspace_id=workspace_id,
            page_id=data.page_id,
            report_id=data.report_id,
            update_id=data.update_id,
        )
        if mail is None:
            return None
        key = queue.report_key(data.update_id)
        return await queue.queue(session, mail, key=key, page_id=data.page_id, now=now)
    if isinstance(data, MaintenanceData):
        scheduled = event.kind is EventKind.MAINTENANCE_SCHEDULED
        mail = await compose.maintenance_mail(
            session,
            settings,
            workspace_id=workspace_id,
            page_id=data.page_id,
            maintenance_id=data.maintenance_id,
            stage="scheduled" if scheduled else "updated",
        )
        if mail is None:
            return None
        if scheduled:
            key = queue.maintenance_scheduled_key(data.maintenance_id)
        else:
            key = queue.maintenance_updated_key(data.maintenance_id, event.event_id)
        return await queue.queue(session, mail, key=key, page_id=data.page_id, now=now)
    subscriber = await session.get(PageSubscriber, data.subscriber_id)
    if subscriber is None:
        return None
    if subscriber.page_id != data.page_id:
        raise compose.Inconsistent(f"subscriber {data.subscriber_id} is not on page {data.page_id}")
    if subscriber.accepted_at is not None or subscriber.unsubscribed_at is not None:
        return 0  # confirmed already, or gone: nothing to confirm
    mail = await compose.confirm_mail(session, settings, workspace_id=workspace_id, page_id=data.page_id)
    if mail is None:
        return None
    key = queue.confirm_key(subscriber.id, subscriber.token)
    return await queue.queue(
        session, mail, key=key, page_id=data.page_id, now=now, subscriber_id=subscriber.id
    )
