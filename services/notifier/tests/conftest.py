"""Notifier test helpers: fake receivers, a workspace with a monitor, channels, alert events, and an
in-process notifier on the test's database and NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifier.senders import Endpoints
from notifier.worker import run_notifier
from openstatus_common.bus import Bus
from openstatus_common.bus.streams import event_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import (
    Monitor,
    NotificationChannel,
    NotificationDelivery,
    Workspace,
    monitor_notifications,
)
from openstatus_common.messages import Event, EventKind, MonitorAlert, MonitorRef
from openstatus_common.notify import parse_provider, validate_config
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.receivers import HttpReceiver, SmtpReceiver

KINDS = {
    "error": EventKind.MONITOR_ERROR,
    "degraded": EventKind.MONITOR_DEGRADED,
    "recovered": EventKind.MONITOR_RECOVERED,
}


def pytest_configure(config: pytest.Config) -> None:
    # apprise imports the deprecated imghdr when its email plugin loads (the notifier filters it at import).
    config.addinivalue_line("filterwarnings", "ignore:'imghdr' is deprecated:DeprecationWarning")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver().start()
    yield server
    server.stop()


async def make_monitor(
    sessions: async_sessionmaker[AsyncSession], slug: str = "acme", name: str = "Homepage"
) -> tuple[int, int]:
    """(workspace id, monitor id); the workspace is created on first use."""
    async with unit_of_work(sessions) as session:
        workspace = (
            await session.execute(select(Workspace).where(Workspace.slug == slug))
        ).scalar_one_or_none()
        if workspace is None:
            workspace = Workspace(name=slug.title(), slug=slug, plan="team", limits={})
            session.add(workspace)
            await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id, kind="http", name=name, url="https://example.com", periodicity="1m"
        )
        session.add(monitor)
        await session.flush()
        return workspace.id, monitor.id


async def make_channel(
    sessions: async_sessionmaker[AsyncSession],
    workspace_id: int,
    provider: str,
    data: dict[str, Any],
    monitor_ids: list[int],
) -> int:
    kind = parse_provider(provider)
    async with unit_of_work(sessions) as session:
        channel = NotificationChannel(
            workspace_id=workspace_id, name=provider, provider=kind.value, config=validate_config(kind, data)
        )
        session.add(channel)
        await session.flush()
        if monitor_ids:
            await session.execute(
                insert(monitor_notifications),
                [{"channel_id": channel.id, "monitor_id": m} for m in monitor_ids],
            )
        return channel.id


async def deliveries(
    sessions: async_sessionmaker[AsyncSession], channel_id: int | None = None
) -> list[NotificationDelivery]:
    async with unit_of_work(sessions) as session:
        query = select(NotificationDelivery).order_by(NotificationDelivery.id)
        if channel_id is not None:
            query = query.where(NotificationDelivery.channel_id == channel_id)
        return list((await session.execute(query)).scalars())


def alert_event(
    workspace_id: int,
    monitor_id: int,
    status: str = "error",
    *,
    event_id: str | None = None,
    at: datetime | None = None,
    **fields: Any,
) -> Event:
    moment = at or utcnow()
    alert = MonitorAlert(
        monitor=MonitorRef(id=monitor_id, name="Homepage", url="https://example.com"),
        cronTimestamp=int(moment.timestamp() * 1000),
        status=status,  # type: ignore[arg-type]
        **fields,
    )
    return Event(
        event_id=event_id or f"evt-{uuid.uuid4().hex[:12]}",
        kind=KINDS[status],
        occurred_at=moment,
        workspace_id=workspace_id,
        monitor_id=monitor_id,
        data=alert.model_dump(mode="json"),
    )


async def publish(bus: Bus, event: Event, *, msg_id: str | None = None) -> None:
    await bus.publish(event_subject(event.kind.value), event, msg_id=msg_id or event.event_id)


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    connection = await Bus.connect(nats_url, name="notifier-test")
    await connection.ensure_streams()
    yield connection
    await connection.close()


StartNotifier = Callable[..., Awaitable[ServiceContext]]


@pytest.fixture
async def start_notifier(db_engine: AsyncEngine, nats_url: str) -> AsyncIterator[StartNotifier]:
    """Start the notifier's worker in this process; stopped (gracefully) at the end of the test."""
    running: list[tuple[ServiceContext, asyncio.Task[None], Bus]] = []

    async def start(endpoints: Endpoints | None = None, **overrides: Any) -> ServiceContext:
        values: dict[str, Any] = {
            "nats_url": nats_url,
            "notify_backoff_base": 0.2,
            "notify_timeout": 2.0,
            "shutdown_timeout": 3.0,
            **overrides,
        }
        settings = Settings(**values)
        connection = await Bus.connect(nats_url, name="notifier")
        await connection.ensure_streams()
        ctx = ServiceContext(name="notifier", settings=settings)
        ctx.attach(engine=db_engine, bus=connection)
        task = asyncio.create_task(run_notifier(ctx, poll_interval=0.05, endpoints=endpoints))
        running.append((ctx, task, connection))
        return ctx

    yield start
    for ctx, task, connection in running:
        ctx.stop.set()
        await asyncio.wait_for(task, 15)
        await connection.close()
