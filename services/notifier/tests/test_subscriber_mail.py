"""Status-page subscribers are mailed through the notifier: reports, maintenances, reminders, confirmations.

Real NATS, a real database (SQLite and PostgreSQL) and a local SMTP server. Each mail reaches exactly the
confirmed subscribers of its page, once however often its event arrives; notify=false mails nobody; every mail
but the confirmation carries the unsubscribe link (in the body and as one-click List-Unsubscribe headers);
user-written text is escaped in the HTML part; a failing SMTP server is retried, in order.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any, cast

from nats.js.errors import NotFoundError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.subscribers import queue, reminders
from notifier.subscribers.content import EN_DASH, ConfirmMail, PageRef
from notifier.subscribers.mailer import Mailer
from openstatus_common.bus import Bus
from openstatus_common.bus.consumer import DLQ_CONSUMER, DLQ_REASON
from openstatus_common.bus.streams import event_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import (
    Maintenance,
    PageComponent,
    PageSubscriber,
    StatusPage,
    StatusReport,
    StatusReportUpdate,
    SubscriberDelivery,
    Workspace,
    status_report_components,
)
from openstatus_common.mail import MAIL_POLICY
from openstatus_common.messages import Event, EventKind
from openstatus_common.settings import Settings
from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.receivers import SmtpReceiver

from .conftest import StartNotifier

Sessions = async_sessionmaker[AsyncSession]
PUBLIC = "https://status.example.com"
PAGE = f"{PUBLIC}/acme"


# --- rows ------------------------------------------------------------------------------------------


async def make_page(
    sessions: Sessions, slug: str = "acme", title: str = "Acme Status", *, published: bool = True
) -> tuple[int, int]:
    """(workspace id, page id)."""
    async with unit_of_work(sessions) as session:
        workspace = (
            await session.execute(select(Workspace).where(Workspace.slug == "ws"))
        ).scalar_one_or_none()
        if workspace is None:
            workspace = Workspace(name="Ws", slug="ws", plan="team", limits={})
            session.add(workspace)
            await session.flush()
        page = StatusPage(workspace_id=workspace.id, title=title, slug=slug, published=published)
        session.add(page)
        await session.flush()
        return workspace.id, page.id


async def make_subscriber(sessions: Sessions, page_id: int, email: str, state: str = "confirmed") -> int:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        subscriber = PageSubscriber(
            page_id=page_id,
            email=email,
            token=secrets.token_urlsafe(24),
            accepted_at=None if state == "pending" else now,
            unsubscribed_at=now if state == "unsubscribed" else None,
        )
        session.add(subscriber)
        await session.flush()
        return subscriber.id


async def token_of(sessions: Sessions, subscriber_id: int) -> str:
    async with unit_of_work(sessions) as session:
        subscriber = await session.get(PageSubscriber, subscriber_id)
        assert subscriber is not None
        return subscriber.token


async def make_report(
    sessions: Sessions,
    workspace_id: int,
    page_id: int,
    title: str,
    updates: list[tuple[str, str]],
    components: tuple[str, ...] = (),
) -> tuple[int, list[int]]:
    """(report id, update ids) of a report with the given (status, message) timeline."""
    now = utcnow()
    async with unit_of_work(sessions) as session:
        report = StatusReport(workspace_id=workspace_id, page_id=page_id, title=title, status=updates[-1][0])
        session.add(report)
        await session.flush()
        ids = []
        for index, (status, message) in enumerate(updates):
            entry = StatusReportUpdate(
                report_id=report.id, status=status, message=message, date=now + timedelta(minutes=index)
            )
            session.add(entry)
            await session.flush()
            ids.append(entry.id)
        for order, name in enumerate(components):
            component = PageComponent(page_id=page_id, type="static", name=name, order=order)
            session.add(component)
            await session.flush()
            await session.execute(
                insert(status_report_components).values(report_id=report.id, component_id=component.id)
            )
        return report.id, ids


async def make_maintenance(
    sessions: Sessions,
    workspace_id: int,
    page_id: int,
    title: str,
    starts_at: datetime,
    hours: int = 1,
    scheduled_at: datetime | None = None,
    notify: bool = True,
) -> int:
    # Announced well ahead (three days before), unless told otherwise.
    scheduled_at = scheduled_at or starts_at - timedelta(days=3)
    async with unit_of_work(sessions) as session:
        maintenance = Maintenance(
            workspace_id=workspace_id,
            page_id=page_id,
            title=title,
            message="We upgrade the database.",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            notify=notify,
            created_at=scheduled_at,
            updated_at=scheduled_at,
        )
        session.add(maintenance)
        await session.flush()
        return maintenance.id


async def mail_rows(sessions: Sessions) -> list[SubscriberDelivery]:
    async with unit_of_work(sessions) as session:
        query = select(SubscriberDelivery).order_by(SubscriberDelivery.id)
        return list((await session.execute(query)).scalars())


# --- events and the bus ----------------------------------------------------------------------------


def page_event(
    workspace_id: int, kind: EventKind, event_id: str, at: datetime | None = None, **data: Any
) -> Event:
    return Event(
        event_id=event_id, kind=kind, occurred_at=at or utcnow(), workspace_id=workspace_id, data=data
    )


async def publish(bus: Bus, event: Event, *, msg_id: str | None = None) -> int:
    """Publish; the stream sequence it got (or the first copy's, for a duplicate)."""
    result = await bus.publish(event_subject(event.kind.value), event, msg_id=msg_id or event.event_id)
    return result.sequence


async def wait_handled(bus: Bus, durable: str, sequence: int, timeout: float = 15) -> None:
    """Until the consumer has acked everything up to ``sequence``: its work for those events is committed."""

    async def handled() -> bool:
        try:
            info = await bus.js.consumer_info("EVENTS", durable)
        except NotFoundError:
            return False
        return info.num_ack_pending == 0 and info.num_pending == 0 and info.ack_floor.stream_seq >= sequence

    handled.__name__ = f"{durable}_handled_{sequence}"
    await wait_for(handled, timeout=timeout)


async def wait_settled(sessions: Sessions, count: int, timeout: float = 15) -> list[SubscriberDelivery]:
    async def settled() -> bool:
        rows = await mail_rows(sessions)
        return len(rows) == count and all(row.status in ("sent", "failed") for row in rows)

    await wait_for(settled, timeout=timeout)
    return await mail_rows(sessions)


def mail_settings(smtp: SmtpReceiver) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_from": "Acme Status <status@example.com>",
        "public_status_page_url": PUBLIC,
    }


def received(smtp: SmtpReceiver) -> list[tuple[list[str], EmailMessage]]:
    """What the SMTP server got, parsed as a mail client does (headers unfolded and decoded)."""
    return [
        (
            recipients,
            cast(
                EmailMessage, message_from_bytes(message.as_bytes(policy=MAIL_POLICY), policy=policy.default)
            ),
        )
        for recipients, message in smtp.messages
    ]


def part(message: Message, content_type: str) -> str:
    found = next(item for item in message.walk() if item.get_content_type() == content_type)
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(found.get_content_charset() or "utf-8")


def subject(message: Message) -> str:
    # Unfolded as a mail client shows it (Python may fold a long subject right after "Subject:").
    return " ".join(str(message["Subject"]).split())


def by_recipient(smtp: SmtpReceiver) -> dict[str, list[EmailMessage]]:
    mails: dict[str, list[EmailMessage]] = {}
    for recipients, message in received(smtp):
        for recipient in recipients:
            mails.setdefault(recipient, []).append(message)
    return mails


# --- tests -----------------------------------------------------------------------------------------


async def test_a_report_reaches_each_confirmed_subscriber_once(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    _, other_page = await make_page(sessions, slug="other", title="Other")
    alice = await make_subscriber(sessions, page, "alice@example.com")
    bob = await make_subscriber(sessions, page, "bob@example.com")
    await make_subscriber(sessions, page, "pending@example.com", "pending")
    await make_subscriber(sessions, page, "gone@example.com", "unsubscribed")
    await make_subscriber(sessions, other_page, "other@example.com")
    report, (first,) = await make_report(
        sessions,
        workspace,
        page,
        "Database <script>alert(1)</script> latency",
        [("investigating", "Queries are slow.\n<script>alert('x')</script>")],
        components=["API", "Database & <b>storage</b>"],
    )

    await start_notifier(**mail_settings(smtp))
    event = page_event(
        workspace,
        EventKind.REPORT_PUBLISHED,
        f"report.published:{first}",
        page_id=page,
        report_id=report,
        update_id=first,
        notify=True,
    )
    await publish(bus, event)
    await publish(bus, event)  # the outbox published it twice: JetStream stores it once
    last = await publish(bus, event, msg_id="replayed")  # stored again: the consumer gets it twice
    await wait_handled(bus, "notifier-reports", last)
    rows = await wait_settled(sessions, 2)

    assert sorted(by_recipient(smtp)) == ["alice@example.com", "bob@example.com"]
    assert len(smtp.messages) == 2
    assert {row.key for row in rows} == {f"report.updated:{first}"}
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
    assert all(row.sent_at is not None for row in rows)

    message = by_recipient(smtp)["alice@example.com"][0]
    token = await token_of(sessions, alice)
    assert token != await token_of(sessions, bob)
    leave = f"{PAGE}/unsubscribe/{token}"
    assert subject(message) == "[Acme Status] Investigating: Database <script>alert(1)</script> latency"
    assert message["From"] == "Acme Status <status@example.com>"
    assert message["List-Unsubscribe"] == f"<{leave}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = part(message, "text/plain")
    assert "Queries are slow." in text and f"Unsubscribe: {leave}" in text
    assert "Affected: API, Database & <b>storage</b>" in text
    assert f"Full report: {PAGE}/events/report/{report}" in text  # the whole timeline, not just the page
    body = part(message, "text/html")
    assert f"href='{PAGE}/events/report/{report}'" in body
    assert "<script>" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "Database &amp; &lt;b&gt;storage&lt;/b&gt;" in body
    assert f"href='{leave}'" in body
    # Bob's links carry his own token, never Alice's.
    assert token not in part(by_recipient(smtp)["bob@example.com"][0], "text/plain")


async def assert_nobody_mailed(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, *, reports: int, maintenances: int
) -> None:
    """Once the notifier has handled the events up to these sequence numbers, no mail was queued or sent."""
    await wait_handled(bus, "notifier-reports", reports)
    await wait_handled(bus, "notifier-maintenances", maintenances)
    assert await mail_rows(sessions) == []
    assert smtp.messages == []


async def test_notify_false_stale_and_other_page_events_mail_nobody(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    await make_subscriber(sessions, page, "alice@example.com")
    report, (first, second) = await make_report(
        sessions, workspace, page, "Outage", [("investigating", "Down."), ("resolved", "Fixed.")]
    )
    maintenance = await make_maintenance(
        sessions, workspace, page, "DB upgrade", utcnow() + timedelta(days=3)
    )
    await start_notifier(**mail_settings(smtp))

    ids = {"page_id": page, "report_id": report}
    await publish(
        bus, page_event(workspace, EventKind.REPORT_PUBLISHED, "r1", **ids, update_id=first, notify=False)
    )
    reports = await publish(
        bus, page_event(workspace, EventKind.REPORT_UPDATED, "r2", **ids, update_id=second, notify=False)
    )
    await publish(bus, page_event(workspace, EventKind.REPORT_DELETED, "r3", page_id=page, report_id=report))
    # Replayed history (a first start reads the whole stream): too old to announce.
    old = utcnow() - timedelta(days=2)
    reports = await publish(
        bus, page_event(workspace, EventKind.REPORT_UPDATED, "r4", old, **ids, update_id=second, notify=True)
    )
    await publish(
        bus,
        page_event(
            workspace,
            EventKind.MAINTENANCE_SCHEDULED,
            "m1",
            page_id=page,
            maintenance_id=maintenance,
            notify=False,
        ),
    )
    maintenances = await publish(
        bus,
        page_event(
            workspace,
            EventKind.MAINTENANCE_UPDATED,
            "m2",
            page_id=page,
            maintenance_id=maintenance,
            notify=False,
        ),
    )
    await assert_nobody_mailed(sessions, bus, smtp, reports=reports, maintenances=maintenances)


async def test_a_draft_page_mails_nobody(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    """An unpublished page's links all answer 404: no report or maintenance mail points there."""
    workspace, page = await make_page(sessions, "draft", published=False)
    await make_subscriber(sessions, page, "alice@example.com")
    report, (first,) = await make_report(sessions, workspace, page, "Outage", [("investigating", "Down.")])
    maintenance = await make_maintenance(
        sessions, workspace, page, "DB upgrade", utcnow() + timedelta(days=3)
    )
    await start_notifier(**mail_settings(smtp))
    reports = await publish(
        bus,
        page_event(
            workspace,
            EventKind.REPORT_PUBLISHED,
            "r1",
            page_id=page,
            report_id=report,
            update_id=first,
            notify=True,
        ),
    )
    maintenances = await publish(
        bus,
        page_event(
            workspace,
            EventKind.MAINTENANCE_SCHEDULED,
            "m1",
            page_id=page,
            maintenance_id=maintenance,
            notify=True,
        ),
    )
    await assert_nobody_mailed(sessions, bus, smtp, reports=reports, maintenances=maintenances)


async def test_a_scheduled_and_an_updated_maintenance_are_mailed(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    alice = await make_subscriber(sessions, page, "alice@example.com")
    starts = (utcnow() + timedelta(days=10)).replace(hour=14, minute=0, second=0, microsecond=0)
    maintenance = await make_maintenance(sessions, workspace, page, "DB upgrade", starts)
    await start_notifier(**mail_settings(smtp))

    ids = {"page_id": page, "maintenance_id": maintenance, "notify": True}
    scheduled = page_event(
        workspace, EventKind.MAINTENANCE_SCHEDULED, f"maintenance.scheduled:{maintenance}", **ids
    )
    await publish(bus, scheduled)
    await publish(bus, scheduled, msg_id="again")
    await wait_settled(sessions, 1)
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Maintenance)
            .where(Maintenance.id == maintenance)
            .values(ends_at=starts + timedelta(hours=2), title="DB upgrade, longer")
        )
    await publish(bus, page_event(workspace, EventKind.MAINTENANCE_UPDATED, "maintenance.updated:abc", **ids))
    rows = await wait_settled(sessions, 2)

    assert [row.key for row in rows] == [
        f"maintenance.scheduled:{maintenance}",
        f"maintenance.updated:{maintenance}:maintenance.updated:abc",
    ]
    day = starts.strftime("%Y-%m-%d")
    assert [subject(message) for _, message in received(smtp)] == [
        f"[Acme Status] Scheduled maintenance: DB upgrade ({day} 14:00{EN_DASH}15:00 UTC)",
        f"[Acme Status] Maintenance updated: DB upgrade, longer ({day} 14:00{EN_DASH}16:00 UTC)",
    ]
    message = received(smtp)[0][1]
    leave = f"{PAGE}/unsubscribe/{await token_of(sessions, alice)}"
    assert message["List-Unsubscribe"] == f"<{leave}>"
    assert "We upgrade the database." in part(message, "text/plain")
    assert leave in part(message, "text/plain")


async def test_the_reminder_goes_out_once_before_a_maintenance_starts(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    alice = await make_subscriber(sessions, page, "alice@example.com")
    await make_subscriber(sessions, page, "pending@example.com", "pending")
    starts = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    soon = await make_maintenance(sessions, workspace, page, "DB upgrade", starts)
    later = await make_maintenance(sessions, workspace, page, "Network", utcnow() + timedelta(days=2))
    started = await make_maintenance(sessions, workspace, page, "Ongoing", utcnow() - timedelta(minutes=5))
    # The operator did not announce this one: subscribers hear nothing about it.
    quiet = await make_maintenance(sessions, workspace, page, "Quiet", starts, notify=False)

    ctx = await start_notifier(**mail_settings(smtp), maintenance_reminder_minutes=30)
    rows = await wait_settled(sessions, 1)
    assert (
        rows[0].key == f"maintenance.reminder:{soon}:{starts:%Y%m%dT%H%M}" and rows[0].subscriber_id == alice
    )
    # Another sweep (a second replica, or the next round) finds nothing left to remind.
    assert await reminders.sweep(sessions, ctx.settings, now=utcnow()) == 0
    assert len(await mail_rows(sessions)) == 1

    ((recipients, message),) = received(smtp)
    assert recipients == ["alice@example.com"]
    assert subject(message) == f"[Acme Status] Reminder: DB upgrade starts at {starts:%Y-%m-%d %H:%M} UTC"
    assert message["List-Unsubscribe"] == f"<{PAGE}/unsubscribe/{await token_of(sessions, alice)}>"
    async with unit_of_work(sessions) as session:
        marks = dict((await session.execute(select(Maintenance.id, Maintenance.reminder_sent_at))).all())
    assert marks[soon] is not None
    assert marks[later] is None and marks[started] is None and marks[quiet] is None


async def test_two_sweeps_at_once_remind_once(sessions: Sessions) -> None:
    workspace, page = await make_page(sessions)
    for index in range(3):
        await make_subscriber(sessions, page, f"s{index}@example.com")
    starts = utcnow() + timedelta(minutes=5)
    maintenance = await make_maintenance(sessions, workspace, page, "DB upgrade", starts)
    settings = Settings(smtp_host="127.0.0.1", maintenance_reminder_minutes=10)

    results = await asyncio.gather(*(reminders.sweep(sessions, settings, now=utcnow()) for _ in range(2)))
    assert sorted(results) == [0, 1]
    rows = await mail_rows(sessions)
    key = f"maintenance.reminder:{maintenance}:{starts:%Y%m%dT%H%M}"
    assert len(rows) == 3 and {row.key for row in rows} == {key}
    # Off when the lead time is 0.
    await make_maintenance(sessions, workspace, page, "Later", utcnow() + timedelta(minutes=6))
    off = Settings(smtp_host="127.0.0.1", maintenance_reminder_minutes=0)
    assert await reminders.sweep(sessions, off, now=utcnow()) == 0


async def test_a_moved_maintenance_is_reminded_again(sessions: Sessions) -> None:
    workspace, page = await make_page(sessions)
    alice = await make_subscriber(sessions, page, "alice@example.com")
    first_start = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    maintenance = await make_maintenance(sessions, workspace, page, "DB upgrade", first_start)
    settings = Settings(smtp_host="127.0.0.1", maintenance_reminder_minutes=30)
    assert await reminders.sweep(sessions, settings, now=utcnow()) == 1

    # Postponed by two days, well ahead of the new start, as the API does it: the window changes and the
    # reminder mark is cleared.
    moved_at = utcnow()
    new_start = first_start + timedelta(days=2)
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Maintenance)
            .where(Maintenance.id == maintenance)
            .values(
                starts_at=new_start,
                ends_at=new_start + timedelta(hours=1),
                reminder_sent_at=None,
                updated_at=moved_at,
            )
        )
    assert await reminders.sweep(sessions, settings, now=new_start - timedelta(minutes=10)) == 1
    rows = await mail_rows(sessions)
    assert [(row.key, row.subscriber_id) for row in rows] == [
        (f"maintenance.reminder:{maintenance}:{first_start:%Y%m%dT%H%M}", alice),
        (f"maintenance.reminder:{maintenance}:{new_start:%Y%m%dT%H%M}", alice),
    ]


async def test_an_email_domain_page_mails_only_its_domains(sessions: Sessions) -> None:
    workspace, page = await make_page(sessions)
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(StatusPage)
            .where(StatusPage.id == page)
            .values(access_type="email-domain", auth_email_domains=["Acme.com", "@corp.example"])
        )
    inside = await make_subscriber(sessions, page, "alice@acme.com")
    other = await make_subscriber(sessions, page, "bob@corp.example")
    await make_subscriber(sessions, page, "mallory@evil.com")  # subscribed before the domain was dropped
    await make_subscriber(sessions, page, "eve@sub.acme.com")  # a subdomain is another domain
    await make_maintenance(sessions, workspace, page, "DB upgrade", utcnow() + timedelta(minutes=5))
    settings = Settings(smtp_host="127.0.0.1", maintenance_reminder_minutes=10)
    assert await reminders.sweep(sessions, settings, now=utcnow()) == 1
    assert sorted(row.subscriber_id for row in await mail_rows(sessions)) == sorted([inside, other])


async def test_a_maintenance_scheduled_within_the_lead_time_gets_no_second_mail(sessions: Sessions) -> None:
    workspace, page = await make_page(sessions)
    await make_subscriber(sessions, page, "alice@example.com")
    await make_maintenance(
        sessions, workspace, page, "Hotfix", utcnow() + timedelta(minutes=15), scheduled_at=utcnow()
    )
    settings = Settings(smtp_host="127.0.0.1", maintenance_reminder_minutes=60)
    await reminders.sweep(sessions, settings, now=utcnow())
    assert await mail_rows(sessions) == []


async def test_a_pending_subscriber_gets_the_confirmation_mail(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    pending = await make_subscriber(sessions, page, "new@example.com", "pending")
    confirmed = await make_subscriber(sessions, page, "old@example.com")
    await start_notifier(**mail_settings(smtp))

    event = page_event(workspace, EventKind.SUBSCRIBER_PENDING, "s1", page_id=page, subscriber_id=pending)
    await publish(bus, event)
    await publish(bus, event, msg_id="again")
    last = await publish(
        bus, page_event(workspace, EventKind.SUBSCRIBER_PENDING, "s2", page_id=page, subscriber_id=confirmed)
    )
    await wait_handled(bus, "notifier-subscribers", last)
    (row,) = await wait_settled(sessions, 1)

    token = await token_of(sessions, pending)
    assert row.key.startswith(f"subscriber.confirm:{pending}:") and token not in row.key
    assert token not in str(row.payload)
    ((recipients, message),) = received(smtp)
    assert recipients == ["new@example.com"]
    assert subject(message) == "Confirm your subscription to Acme Status"
    assert message["List-Unsubscribe"] is None
    assert f"{PAGE}/confirm/{token}" in part(message, "text/plain")
    assert f"href='{PAGE}/confirm/{token}'" in part(message, "text/html")


async def test_a_failing_smtp_server_is_retried_and_mail_stays_in_order(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    await make_subscriber(sessions, page, "alice@example.com")
    report, (first, second) = await make_report(
        sessions, workspace, page, "Outage", [("investigating", "Down."), ("resolved", "Fixed.")]
    )
    refusals = 2
    accept = smtp.inbox.handle_DATA

    async def flaky(server: Any, session: Any, envelope: Any) -> str:
        nonlocal refusals
        if refusals:
            refusals -= 1
            return "451 Try again later"
        return await accept(server, session, envelope)

    smtp.inbox.handle_DATA = flaky  # type: ignore[method-assign]
    await start_notifier(**mail_settings(smtp), notify_backoff_base=0.2, notify_max_attempts=5)
    ids = {"page_id": page, "report_id": report, "notify": True}
    await publish(bus, page_event(workspace, EventKind.REPORT_PUBLISHED, "p", **ids, update_id=first))
    await publish(bus, page_event(workspace, EventKind.REPORT_UPDATED, "u", **ids, update_id=second))
    rows = await wait_settled(sessions, 2)

    assert [(row.key, row.status, row.attempts) for row in rows] == [
        (f"report.updated:{first}", "sent", 3),
        (f"report.updated:{second}", "sent", 1),
    ]
    assert [subject(message) for _, message in received(smtp)] == [
        "[Acme Status] Investigating: Outage",
        "[Acme Status] Resolved: Outage",
    ]


async def test_a_mail_for_someone_who_left_meanwhile_is_skipped(
    sessions: Sessions, smtp: SmtpReceiver
) -> None:
    _, page = await make_page(sessions)
    leaving = await make_subscriber(sessions, page, "leaving@example.com", "pending")
    settings = Settings(**mail_settings(smtp))
    async with unit_of_work(sessions) as session:
        mail = ConfirmMail(page=PageRef(title="Acme Status", url=PAGE))
        await queue.queue(
            session, mail, key="subscriber.confirm:x", page_id=page, now=utcnow(), subscriber_id=leaving
        )
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(PageSubscriber).where(PageSubscriber.id == leaving).values(unsubscribed_at=utcnow())
        )
    mailer = Mailer(sessions, settings)
    (item,) = await mailer.claim(now=utcnow(), lease=mailer.lease, limit=10)
    await mailer.deliver(item)

    (row,) = await mail_rows(sessions)
    assert (row.status, row.sent_at, row.last_error) == (
        "sent",
        None,
        "skipped: no longer waiting for a confirmation",
    )
    assert smtp.messages == []


async def test_malformed_or_inconsistent_events_are_dead_lettered(
    sessions: Sessions, bus: Bus, smtp: SmtpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, page = await make_page(sessions)
    await make_subscriber(sessions, page, "alice@example.com")
    _, (update_id,) = await make_report(sessions, workspace, page, "Outage", [("investigating", "Down.")])
    await start_notifier(**mail_settings(smtp))

    await publish(bus, page_event(workspace, EventKind.REPORT_PUBLISHED, "bad", page_id="x", notify=True))
    last = await publish(
        bus,
        page_event(
            workspace + 1,  # another workspace's event naming this page
            EventKind.REPORT_UPDATED,
            "foreign",
            page_id=page,
            report_id=1,
            update_id=update_id,
            notify=True,
        ),
    )
    await wait_handled(bus, "notifier-reports", last)
    reasons = []
    for sequence in range(1, (await bus.js.stream_info("DEADLETTER")).state.messages + 1):
        headers = (await bus.js.get_msg("DEADLETTER", sequence)).headers or {}
        assert headers[DLQ_CONSUMER] == "notifier-reports"
        reasons.append(headers[DLQ_REASON])
    assert len(reasons) == 2
    assert reasons[0].startswith("rejected: invalid report.published data: page_id")
    assert reasons[1] == f"rejected: page {page} is not in workspace {workspace + 1}"
    assert await mail_rows(sessions) == []
