"""Incident detection: check results through the real incident-engine worker into SQLite and PostgreSQL.

Per backend, against a real nats-server and a freshly migrated database:

- backlog: ``BACKLOG_MINUTES`` minutes of results for ``MONITORS`` monitors in three regions are published
  first (every tenth monitor has a five-minute outage in two regions), then the engine starts; the figures
  are how fast it drains them (results decided per second) and that each outage gave exactly one incident.
- detection: for ``DETECTIONS`` monitors in turn, two regions' failing results are published; the figure is
  the time from publishing the result that reaches the quorum to the ``monitor.error`` event arriving on
  ``events.monitor.error`` (decision, commit and publish included).

PostgreSQL is a throwaway cluster (``testing.postgres``), which runs with fsync and synchronous commit off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from incident_engine.incidents import run_incident_engine
from incident_engine.incidents.worker import DURABLE
from openstatus_common.bus import Bus
from openstatus_common.bus.streams import check_result_subject, event_subject
from openstatus_common.db.engine import create_engine
from openstatus_common.db.migrate import upgrade
from openstatus_common.db.models import Incident, Monitor, Workspace
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.messages import CheckResult, Event
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.postgres import PostgresCluster
from openstatus_common.vocab import CheckOutcome, Region

MONITORS = 300
REGIONS = (Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD)
BACKLOG_MINUTES = 20
OUTAGE_MINUTES = range(5, 10)
DETECTIONS = 50


def _result(monitor_id: int, region: Region, scheduled_at: datetime, outcome: CheckOutcome) -> CheckResult:
    failed = outcome is CheckOutcome.ERROR
    return CheckResult(
        result_id=f"{monitor_id}:{region.value}:{int(scheduled_at.timestamp() * 1000)}",
        job_id=f"{monitor_id}:{region.value}:{int(scheduled_at.timestamp() * 1000)}",
        monitor_id=monitor_id,
        workspace_id=1,
        region=region,
        scheduled_at=scheduled_at,
        started_at=scheduled_at,
        finished_at=scheduled_at + timedelta(milliseconds=120),
        outcome=outcome,
        latency_ms=120.0,
        status_code=None if failed else 200,
        error="Connection refused" if failed else None,
    )


async def _publish(bus: Bus, results: list[CheckResult]) -> None:
    await asyncio.gather(
        *(bus.publish(check_result_subject(r.region, r.monitor_id), r, msg_id=r.result_id) for r in results)
    )


async def _seed(url: str) -> list[int]:
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(Workspace).values(id=1, name="Bench", slug="bench"))
            await connection.execute(
                insert(Monitor),
                [
                    {"workspace_id": 1, "kind": "http", "name": f"m{n}", "url": "https://example.com"}
                    | {"periodicity": "1m", "active": True, "regions": [r.value for r in REGIONS]}
                    for n in range(MONITORS + DETECTIONS)
                ],
            )
            return list((await connection.execute(select(Monitor.id).order_by(Monitor.id))).scalars())
    finally:
        await engine.dispose()


async def _idle(bus: Bus) -> bool:
    info = await bus.js.consumer_info("RESULTS", DURABLE)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


async def _wait_idle(bus: Bus, timeout: float = 600) -> float:
    deadline = time.perf_counter() + timeout
    await asyncio.sleep(0.5)  # let the consumer be declared and start pulling
    while not await _idle(bus):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the engine did not drain RESULTS within {timeout}s")
        await asyncio.sleep(0.05)
    return time.perf_counter()


async def _measure(database_url: str, nats_url: str) -> dict[str, Any]:
    monitor_ids = await _seed(database_url)
    backlog_ids, detection_ids = monitor_ids[:MONITORS], monitor_ids[MONITORS:]
    bus = await Bus.connect(nats_url, name="bench-detection")
    # Fresh streams per backend: no consumer state, and no dedupe window remembering the last run's ids.
    for stream in ("RESULTS", "EVENTS"):
        with contextlib.suppress(NotFoundError):
            await bus.js.delete_stream(stream)
    await bus.ensure_streams()

    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    backlog: list[CheckResult] = []
    outages = 0
    for minute in range(BACKLOG_MINUTES):
        at = start + timedelta(minutes=minute)
        for monitor_id in backlog_ids:
            down = monitor_id % 10 == 0 and minute in OUTAGE_MINUTES
            outages += down and minute == OUTAGE_MINUTES[0]
            for region in REGIONS:
                failing = down and region is not Region.FLY_SYD
                backlog.append(
                    _result(monitor_id, region, at, CheckOutcome.ERROR if failing else CheckOutcome.SUCCESS)
                )
    for offset in range(0, len(backlog), 500):
        await _publish(bus, backlog[offset : offset + 500])

    arrivals: dict[int, float] = {}

    async def on_error(msg: Msg) -> None:
        event = Event.model_validate_json(msg.data)
        if event.monitor_id is not None:
            arrivals.setdefault(event.monitor_id, time.perf_counter())

    subscription = await bus.nc.subscribe(event_subject("monitor.error"), cb=on_error)
    ctx = ServiceContext(name="bench", settings=Settings(database_url=database_url, nats_url=nats_url))
    ctx.attach(engine=create_engine(database_url), bus=bus)
    worker = asyncio.create_task(run_incident_engine(ctx))
    try:
        began = time.perf_counter()
        drained = await _wait_idle(bus)
        backlog_rate = len(backlog) / (drained - began)
        async with ctx.engine.connect() as connection:
            incidents = int(
                (await connection.execute(select(func.count()).select_from(Incident))).scalar_one()
            )

        latencies: list[float] = []
        at = start + timedelta(minutes=BACKLOG_MINUTES + 1)
        for monitor_id in detection_ids:
            await _publish(bus, [_result(monitor_id, Region.FLY_AMS, at, CheckOutcome.ERROR)])
            published = time.perf_counter()
            await _publish(bus, [_result(monitor_id, Region.FLY_IAD, at, CheckOutcome.ERROR)])
            deadline = published + 30
            while monitor_id not in arrivals:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"no monitor.error for monitor {monitor_id} within 30s")
                await asyncio.sleep(0.001)
            latencies.append((arrivals[monitor_id] - published) * 1000)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(worker, 30)
        await subscription.unsubscribe()
        await ctx.engine.dispose()
        await bus.close()
    latencies.sort()
    return {
        "backlog_results": len(backlog),
        "backlog_decided_per_second": round(backlog_rate),
        "backlog_outages": outages,
        "backlog_incidents": incidents,
        "detection_publish_to_alert_ms": {
            "p50": _nearest(latencies, 50),
            "p95": _nearest(latencies, 95),
            "max": round(max(latencies), 1),
        },
    }


def _nearest(ordered: list[float], p: float) -> float:
    return round(ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)], 1)


async def _postgres(nats_url: str) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-pg-")) / "data"
    data.parent.chmod(0o755)
    cluster = PostgresCluster(data_dir=data)
    await asyncio.to_thread(cluster.start)
    try:
        admin = create_async_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text("CREATE DATABASE bench"))
        finally:
            await admin.dispose()
        return await _measure(cluster.url("bench"), nats_url)
    finally:
        await asyncio.to_thread(cluster.stop)
        shutil.rmtree(data.parent, ignore_errors=True)


async def run() -> dict[str, Any]:
    # One log line per incident would be measured too: keep warnings and errors only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        return await _run()
    finally:
        structlog.reset_defaults()


async def _run() -> dict[str, Any]:
    store = Path(tempfile.mkdtemp(prefix="bench-nats-"))
    server = NatsServer(store_dir=store, port=free_port())
    await asyncio.to_thread(server.start)
    sqlite_dir = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    try:
        figures: dict[str, Any] = {}
        figures["sqlite"] = await _measure(f"sqlite+aiosqlite:///{sqlite_dir / 'bench.db'}", server.url)
        print(f"  sqlite: {figures['sqlite']}", flush=True)
        figures["postgres"] = await _postgres(server.url)
        print(f"  postgres: {figures['postgres']}", flush=True)
        return figures
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(sqlite_dir, ignore_errors=True)
