"""The incident-engine process records results it reads from NATS, on both databases."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.bus.consumer import DLQ_CONSUMER
from openstatus_common.bus.streams import check_result_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import CheckResult as CheckResultRow
from openstatus_common.db.models import Monitor, Workspace
from openstatus_common.local.natsd import free_port
from openstatus_common.messages import CheckResult
from openstatus_common.results import latest_status, monitor_summary
from openstatus_common.testing.processes import ServiceProcess, http_status, wait_for
from openstatus_common.vocab import CheckOutcome, Region


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


async def make_monitor(sessions: async_sessionmaker[AsyncSession]) -> Monitor:
    async with sessions() as session, session.begin():
        workspace = Workspace(name="Acme", slug="acme")
        session.add(workspace)
        await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id, kind="http", name="API", url="https://example.com", periodicity="1m"
        )
        session.add(monitor)
    return monitor


async def deadlettered_by(bus: Bus) -> set[str]:
    """The consumers that dead-lettered something (other consumers of RESULTS reject malformed ones too)."""
    consumers = set()
    for sequence in range(1, (await bus.js.stream_info("DEADLETTER")).state.messages + 1):
        message = await bus.js.get_msg("DEADLETTER", sequence)
        consumers.add((message.headers or {}).get(DLQ_CONSUMER, ""))
    return consumers


async def test_the_service_records_results_from_nats(
    nats_url: str,
    db_url: str,
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    processes: list[ServiceProcess],
) -> None:
    monitor = await make_monitor(sessions)
    port = free_port()
    env = {
        "OPENSTATUS_NATS_URL": nats_url,
        "OPENSTATUS_DATABASE_URL": db_url,
        "OPENSTATUS_INCIDENT_ENGINE_PORT": str(port),
        "OPENSTATUS_LOG_FORMAT": "json",
    }
    service = ServiceProcess("incident_engine", env, tmp_path / "incident-engine.log")
    processes.append(service)

    async def ready() -> bool:
        return await http_status(f"http://127.0.0.1:{port}/readyz") == 200

    await wait_for(ready, timeout=20)

    start = utcnow() - timedelta(minutes=30)
    for n in range(50):
        region = (Region.FLY_AMS, Region.FLY_IAD)[n % 2]
        scheduled = start + timedelta(seconds=10 * n)
        result = CheckResult(
            result_id=f"result-{n}",
            job_id=f"{monitor.id}:{region.value}:{n}",
            monitor_id=monitor.id,
            workspace_id=monitor.workspace_id,
            region=region,
            scheduled_at=scheduled,
            started_at=scheduled,
            finished_at=scheduled + timedelta(milliseconds=n + 1),
            outcome=CheckOutcome.SUCCESS if n % 10 else CheckOutcome.ERROR,
            latency_ms=n + 1,
            status_code=200,
        )
        await bus.publish(check_result_subject(region, monitor.id), result, msg_id=result.result_id)
    await bus.publish(f"checks.result.ams.{monitor.id}", b'{"not": "a result"}', msg_id="malformed")

    async def recorded() -> bool:
        async with sessions() as session:
            count = (await session.execute(select(func.count()).select_from(CheckResultRow))).scalar_one()
        return count == 50 and "recorder" in await deadlettered_by(bus)

    try:
        await wait_for(recorded, timeout=20)
    except AssertionError as error:
        raise AssertionError(f"{error}; service output:\n{service.output()[-4000:]}") from None

    async with sessions() as session:
        summary = await monitor_summary(
            session, monitor_id=monitor.id, since=start, until=utcnow() + timedelta(minutes=1), regions=None
        )
        statuses = await latest_status(session, monitor_id=monitor.id)
    assert (summary.total_successful, summary.total_failed) == (45, 5)
    assert summary.p50 == 25
    assert [status.region for status in statuses] == ["ams", "iad"]

    service.signal(signal.SIGTERM)
    assert await service.wait(timeout=15) == 0, service.output()[-2000:]
    output = service.output()
    assert "service.stopped" in output
    assert "batch_consumer.deadlettered" in output
