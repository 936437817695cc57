"""Every service starts, reports health and readiness, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import event_subject
from openstatus_common.local.natsd import free_port
from openstatus_common.messages import Event, EventKind
from openstatus_common.testing.processes import ServiceProcess, http_status, wait_for

SERVICES = [
    ("api", "OPENSTATUS_API_PORT"),
    ("status_page", "OPENSTATUS_STATUS_PAGE_PORT"),
    ("scheduler", "OPENSTATUS_SCHEDULER_PORT"),
    ("incident_engine", "OPENSTATUS_INCIDENT_ENGINE_PORT"),
    ("notifier", "OPENSTATUS_NOTIFIER_PORT"),
    ("probe", "OPENSTATUS_PROBE_PORT"),
]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.mark.parametrize(("module", "port_variable"), SERVICES)
async def test_service_is_ready_then_stops_on_sigterm(
    module: str,
    port_variable: str,
    nats_url: str,
    db_url: str,
    tmp_path: Path,
    processes: list[ServiceProcess],
) -> None:
    port = free_port()
    env = {"OPENSTATUS_NATS_URL": nats_url, "OPENSTATUS_DATABASE_URL": db_url, port_variable: str(port)}
    service = ServiceProcess(module, env, tmp_path / f"{module}.log")
    processes.append(service)

    async def ready() -> bool:
        return await http_status(f"http://127.0.0.1:{port}/readyz") == 200

    await wait_for(ready, timeout=20)
    assert await http_status(f"http://127.0.0.1:{port}/healthz") == 200

    service.signal(signal.SIGTERM)
    assert await service.wait(timeout=15) == 0, service.output()[-2000:]
    assert "service.stopped" in service.output()


async def test_readiness_fails_while_nats_is_unreachable(
    db_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    port = free_port()
    env = {
        "OPENSTATUS_NATS_URL": f"nats://127.0.0.1:{free_port()}",  # nothing listens there
        "OPENSTATUS_DATABASE_URL": db_url,
        "OPENSTATUS_SCHEDULER_PORT": str(port),
    }
    service = ServiceProcess("scheduler", env, tmp_path / "scheduler.log")
    processes.append(service)

    async def alive() -> bool:
        return await http_status(f"http://127.0.0.1:{port}/healthz") == 200

    await wait_for(alive, timeout=20)
    assert await http_status(f"http://127.0.0.1:{port}/readyz") == 503
    service.signal(signal.SIGTERM)
    assert await service.wait(timeout=15) == 0


async def test_sigterm_mid_batch_loses_no_message(
    nats_url: str, db_url: str, tmp_path: Path, processes: list[ServiceProcess]
) -> None:
    total = 40
    bus = await Bus.connect(nats_url, name="test")
    try:
        await bus.ensure_streams()
        for n in range(total):
            event = Event(
                event_id=f"e{n}", kind=EventKind.MONITOR_ERROR, occurred_at=datetime.now(UTC), workspace_id=1
            )
            await bus.publish(event_subject(event.kind), event, msg_id=event.event_id)

        async def done_count() -> int:
            try:
                return int((await bus.js.stream_info("DONE")).state.messages)
            except Exception:
                return 0

        worker_script = str(Path(__file__).with_name("sigterm_worker.py"))

        def start(name: str) -> ServiceProcess:
            env = {
                "OPENSTATUS_NATS_URL": nats_url,
                "OPENSTATUS_DATABASE_URL": db_url,
                "OPENSTATUS_SCHEDULER_PORT": str(free_port()),
                "OPENSTATUS_SHUTDOWN_TIMEOUT": "5",
            }
            process = ServiceProcess(worker_script, env, tmp_path / f"{name}.log")
            processes.append(process)
            return process

        first = start("first")

        async def some_done() -> bool:
            return await done_count() >= 4

        await wait_for(some_done, timeout=20)
        first.signal(signal.SIGTERM)
        assert await first.wait(timeout=15) == 0, first.output()[-2000:]
        after_first = await done_count()
        assert after_first < total, "the first worker should have been stopped mid-way"

        start("second")

        async def all_done() -> bool:
            return await done_count() == total

        await wait_for(all_done, timeout=30)
        assert int((await bus.js.stream_info("DEADLETTER")).state.messages) == 0
    finally:
        await bus.close()
