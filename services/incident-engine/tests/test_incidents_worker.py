"""The incident engine on a real bus: results published to RESULTS, incidents in the database, EVENTS contents.

Includes the restart test: the real ``incident_engine`` process is SIGKILLed during an outage and started
again, and the outage still has exactly one incident and one alert.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from incident_engine.incidents import publish_pending, run_incident_engine, stage, sweep
from incident_engine.incidents.worker import DURABLE, KeyedLocks
from openstatus_common.bus import Bus, PublishResult, StreamName
from openstatus_common.bus.streams import check_result_subject
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import EventOutbox, Incident, Monitor, MonitorRegionState, Workspace
from openstatus_common.local.natsd import free_port
from openstatus_common.messages import CheckResult, Event, EventKind, MonitorAlert
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.processes import ServiceProcess, http_status, wait_for
from openstatus_common.vocab import CheckOutcome, Region

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
AMS, IAD, SYD = Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD
_ids = itertools.count(1)


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="incident-engine-test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


async def make_monitor(sessions: Sessions, regions: tuple[Region, ...] = (AMS, IAD, SYD)) -> Monitor:
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name="Acme", slug=f"acme-{next(_ids)}")
        session.add(workspace)
        await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id,
            kind="http",
            name="Checkout",
            url="https://shop.example.com",
            periodicity="1m",
            active=True,
            regions=[region.value for region in regions],
        )
        session.add(monitor)
    return monitor


def result(monitor: Monitor, region: Region, minute: int, outcome: str = "error") -> CheckResult:
    scheduled = T0 + minute * MINUTE
    failed = outcome == "error"
    return CheckResult(
        result_id=f"{monitor.id}:{region.value}:{minute}",
        job_id=f"{monitor.id}:{region.value}:{minute}",
        monitor_id=monitor.id,
        workspace_id=monitor.workspace_id,
        region=region,
        scheduled_at=scheduled,
        started_at=scheduled,
        finished_at=scheduled + timedelta(milliseconds=300),
        outcome=CheckOutcome(outcome),
        latency_ms=250.0,
        status_code=None if failed else 200,
        error="Connection refused" if failed else None,
    )


async def publish(bus: Bus, *results: CheckResult, msg_id_suffix: str = "") -> None:
    for item in results:
        subject = check_result_subject(item.region, item.monitor_id)
        await bus.publish(subject, item, msg_id=item.result_id + msg_id_suffix)


async def stream_events(bus: Bus) -> list[tuple[str, Event]]:
    """Every message in EVENTS: (its Nats-Msg-Id, the event)."""
    state = (await bus.js.stream_info(StreamName.EVENTS.value)).state
    found = []
    for sequence in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        message = await bus.js.get_msg(StreamName.EVENTS.value, sequence)
        headers = message.headers or {}
        found.append((headers.get("Nats-Msg-Id", ""), Event.model_validate_json(message.data or b"")))
    return found


async def count(sessions: Sessions, model: Any, *conditions: Any) -> int:
    async with sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*conditions))).scalar_one()
        )


async def consumer_idle(bus: Bus) -> bool:
    try:
        info = await bus.js.consumer_info(StreamName.RESULTS.value, DURABLE)
    except Exception:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


class Engine:
    """The incident engine's worker running in this process, on the test's database and bus."""

    def __init__(self, db_engine: AsyncEngine, bus: Bus) -> None:
        self.ctx = ServiceContext(
            name="incident-engine", settings=Settings(bus_ack_wait=5, shutdown_timeout=5)
        )
        self.ctx.attach(engine=db_engine, bus=bus)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ServiceContext:
        self.task = asyncio.create_task(run_incident_engine(self.ctx))
        return self.ctx

    async def __aexit__(self, *_: object) -> None:
        self.ctx.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)


# --- through the bus ------------------------------------------------------------------------------------


async def test_outage_and_recovery_through_the_bus(
    db_engine: AsyncEngine, sessions: Sessions, bus: Bus
) -> None:
    monitor = await make_monitor(sessions)
    async with Engine(db_engine, bus):
        await publish(
            bus, result(monitor, AMS, 0), result(monitor, IAD, 0), result(monitor, SYD, 0, "success")
        )

        async def two_events() -> bool:
            return len(await stream_events(bus)) >= 2

        await wait_for(two_events, timeout=20)
        # Redelivered copies (a probe republishing after the dedupe window) change nothing.
        await publish(bus, result(monitor, AMS, 0), result(monitor, IAD, 0), msg_id_suffix=":again")
        await publish(bus, result(monitor, AMS, 1, "success"), result(monitor, IAD, 1, "success"))

        async def four_events() -> bool:
            return len(await stream_events(bus)) >= 4

        await wait_for(four_events, timeout=20)
        await wait_for(lambda: consumer_idle(bus), timeout=20)

    [incident_id] = [row for row in await _incident_ids(sessions, monitor)]
    events = await stream_events(bus)
    assert [event.kind.value for _, event in events] == [
        "monitor.error",
        "incident.opened",
        "monitor.recovered",
        "incident.resolved",
    ]
    assert [msg_id for msg_id, _ in events] == [event.event_id for _, event in events]
    error = MonitorAlert.model_validate(events[0][1].data)
    assert error.webhook_payload() == {
        "monitor": {"id": monitor.id, "name": "Checkout", "url": "https://shop.example.com"},
        "cronTimestamp": int(T0.timestamp() * 1000),
        "status": "error",
        "errorMessage": "Connection refused",
    }
    assert error.incidentId == incident_id
    recovered = MonitorAlert.model_validate(events[2][1].data)
    assert recovered.webhook_payload() == {
        "monitor": {"id": monitor.id, "name": "Checkout", "url": "https://shop.example.com"},
        "cronTimestamp": int((T0 + MINUTE).timestamp() * 1000),
        "status": "recovered",
        "statusCode": 200,
        "latency": 250,
    }
    assert events[3][1].data["auto_resolved"] is True
    assert events[3][1].data["duration_s"] == 60
    assert await count(sessions, EventOutbox) == 0


async def _incident_ids(sessions: Sessions, monitor: Monitor) -> list[int]:
    async with sessions() as session:
        query = select(Incident.id).where(Incident.monitor_id == monitor.id).order_by(Incident.id)
        return list((await session.execute(query)).scalars().all())


class FlakyBus(Bus):
    """Fails the first ``failures`` event publishes, as if NATS went away right after the commit."""

    def __init__(self, bus: Bus, failures: int) -> None:
        super().__init__(bus.nc, bus.js)
        self.failures = failures

    async def publish(self, subject: str, message: Any, **kwargs: Any) -> PublishResult:
        if subject.startswith("events.") and self.failures > 0:
            self.failures -= 1
            raise ConnectionError("nats: connection closed")
        return await super().publish(subject, message, **kwargs)


async def test_events_lost_after_the_commit_are_published_by_the_redelivery(
    db_engine: AsyncEngine, sessions: Sessions, bus: Bus
) -> None:
    monitor = await make_monitor(sessions, regions=(AMS,))
    flaky = FlakyBus(bus, failures=1)
    async with Engine(db_engine, flaky):
        await publish(bus, result(monitor, AMS, 0))

        async def published() -> bool:
            return len(await stream_events(bus)) >= 2 and await consumer_idle(bus)

        await wait_for(published, timeout=20)
    assert flaky.failures == 0
    assert [event.kind for _, event in await stream_events(bus)] == [
        EventKind.MONITOR_ERROR,
        EventKind.INCIDENT_OPENED,
    ]
    assert await count(sessions, Incident) == 1
    assert await count(sessions, EventOutbox) == 0


async def test_sweep_publishes_leftovers_once(sessions: Sessions, bus: Bus) -> None:
    event = Event(
        event_id="7:monitor.error:ams:1",
        kind=EventKind.MONITOR_ERROR,
        occurred_at=T0,
        workspace_id=1,
        monitor_id=7,
    )
    async with unit_of_work(sessions) as session:
        stage(session, [event])
    assert await sweep(bus, sessions, older_than=timedelta(hours=1)) == 0  # too fresh for the sweep
    assert await sweep(bus, sessions, older_than=timedelta(0)) == 1
    assert await publish_pending(bus, sessions, monitor_id=7) == 0
    # Published again (the row came back, e.g. its delete was lost): JetStream keeps one copy.
    async with unit_of_work(sessions) as session:
        stage(session, [event])
    assert await publish_pending(bus, sessions, monitor_id=7) == 1
    assert [(msg_id, stored) for msg_id, stored in await stream_events(bus)] == [(event.event_id, event)]


async def test_keyed_locks_serve_in_order_and_clean_up() -> None:
    locks = KeyedLocks()
    order: list[int] = []

    async def work(n: int) -> None:
        async with locks.hold(1):
            await asyncio.sleep(0)
            order.append(n)

    await asyncio.gather(*(work(n) for n in range(10)))
    assert order == list(range(10))
    assert len(locks) == 0


# --- the real process, killed mid-outage ------------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


async def test_engine_killed_during_an_outage_still_opens_one_incident(
    nats_url: str,
    db_url: str,
    sessions: Sessions,
    bus: Bus,
    tmp_path: Path,
    processes: list[ServiceProcess],
) -> None:
    monitor = await make_monitor(sessions)
    port = free_port()
    env = {
        "OPENSTATUS_NATS_URL": nats_url,
        "OPENSTATUS_DATABASE_URL": db_url,
        "OPENSTATUS_INCIDENT_ENGINE_PORT": str(port),
        "OPENSTATUS_BUS_ACK_WAIT": "2",  # what the killed process held comes back quickly
        "OPENSTATUS_SHUTDOWN_TIMEOUT": "2",
        "OPENSTATUS_LOG_FORMAT": "json",
    }

    def start(name: str) -> ServiceProcess:
        process = ServiceProcess("incident_engine", env, tmp_path / f"{name}.log")
        processes.append(process)
        return process

    def failing(minutes: range) -> list[CheckResult]:
        return [result(monitor, region, minute) for minute in minutes for region in (AMS, IAD, SYD)]

    async def ready() -> bool:
        return await http_status(f"http://127.0.0.1:{port}/readyz") == 200

    first = start("first")
    await wait_for(ready, timeout=30)

    async def probes_report() -> None:
        """Results keep coming, a check every few milliseconds, before and through the crash."""
        for item in failing(range(0, 60)):
            await publish(bus, item)
            await asyncio.sleep(0.01)

    reporting = asyncio.create_task(probes_report())

    async def incident_opened() -> bool:
        return await count(sessions, Incident, Incident.monitor_id == monitor.id) >= 1

    await wait_for(incident_opened, timeout=30)
    first.signal(signal.SIGKILL)
    assert await first.wait(timeout=10) == -signal.SIGKILL
    await reporting
    await publish(bus, *failing(range(20, 40)), msg_id_suffix=":again")  # some results come twice
    second = start("second")
    await wait_for(ready, timeout=30)

    async def caught_up() -> bool:
        newest = await count(
            sessions,
            MonitorRegionState,
            MonitorRegionState.monitor_id == monitor.id,
            MonitorRegionState.last_scheduled_at == T0 + 59 * MINUTE,
        )
        return newest == 3 and await consumer_idle(bus)

    await wait_for(caught_up, timeout=60)
    await wait_for(lambda: _outbox_empty(sessions), timeout=30)

    async with sessions() as session:
        [incident] = (
            (await session.execute(select(Incident).where(Incident.monitor_id == monitor.id))).scalars().all()
        )
        status = (await session.execute(select(Monitor.status).where(Monitor.id == monitor.id))).scalar_one()
    assert incident.status == "open"
    assert incident.started_at == T0
    assert status == "error"
    kinds = [event.kind for _, event in await stream_events(bus)]
    assert kinds.count(EventKind.MONITOR_ERROR) == 1
    assert kinds.count(EventKind.INCIDENT_OPENED) == 1
    assert len(kinds) == 2
    second.signal(signal.SIGTERM)
    assert await second.wait(timeout=20) == 0, second.output()[-3000:]


async def _outbox_empty(sessions: Sessions) -> bool:
    return await count(sessions, EventOutbox) == 0
