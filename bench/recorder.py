"""Recorder throughput: check results through the real recorder worker into SQLite and PostgreSQL.

Per backend, against a real nats-server and a freshly migrated database:

- backlog: ``BACKLOG`` results (1,000 monitors, three regions) are published first, then the recorder starts;
  the figure is how fast it drains them (results recorded per second, raw rows plus rollups).
- paced: results published at ``PACED_RATE`` per second for ``PACED_SECONDS`` seconds, each scheduled at its
  publish time; the figure is schedule-to-recorded latency (``created_at - scheduled_at`` of the stored row,
  i.e. until the insert, the commit follows within milliseconds) and the rate recorded.

PostgreSQL is a throwaway cluster (``testing.postgres``), which runs with fsync and synchronous commit off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from nats.js.errors import NotFoundError
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from incident_engine.recorder import run_recorder
from openstatus_common.bus import Bus
from openstatus_common.bus.streams import check_result_subject
from openstatus_common.db.engine import create_engine
from openstatus_common.db.migrate import upgrade
from openstatus_common.db.models import CheckResult as CheckResultRow
from openstatus_common.db.models import Monitor, Workspace
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.messages import CheckResult
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.postgres import PostgresCluster
from openstatus_common.vocab import CheckOutcome, Region

MONITORS = 1_000
REGIONS = (Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD)
BACKLOG = 20_000
PACED_RATE = 500
PACED_SECONDS = 20
TICK = 0.02


def _result(result_id: str, monitor_id: int, region: Region, scheduled_at: datetime) -> CheckResult:
    latency = random.lognormvariate(4.5, 0.8)
    outcome = CheckOutcome.SUCCESS if random.random() > 0.05 else CheckOutcome.ERROR
    return CheckResult(
        result_id=result_id,
        job_id=f"{monitor_id}:{region.value}:{int(scheduled_at.timestamp() * 1000)}",
        monitor_id=monitor_id,
        workspace_id=1,
        region=region,
        scheduled_at=scheduled_at,
        started_at=scheduled_at,
        finished_at=scheduled_at + timedelta(milliseconds=latency),
        outcome=outcome,
        latency_ms=latency,
        status_code=200 if outcome == CheckOutcome.SUCCESS else 503,
        response_headers={"content-type": "application/json", "server": "nginx"},
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
                    | {"periodicity": "1m"}
                    for n in range(MONITORS)
                ],
            )
            return list((await connection.execute(select(Monitor.id))).scalars())
    finally:
        await engine.dispose()


async def _count(ctx: ServiceContext, prefix: str) -> int:
    async with ctx.engine.connect() as connection:
        query = select(func.count()).select_from(CheckResultRow).where(CheckResultRow.id.like(f"{prefix}%"))
        return int((await connection.execute(query)).scalar_one())


async def _wait_recorded(ctx: ServiceContext, prefix: str, expected: int, timeout: float = 600) -> float:
    """When every published result is acked (so committed), checked against the rows once at the end.

    Polling the consumer rather than counting rows keeps the measurement from loading the database.
    """
    deadline = time.perf_counter() + timeout
    last = (await ctx.bus.js.stream_info("RESULTS")).state.last_seq
    while True:
        info = await ctx.bus.js.consumer_info("RESULTS", "recorder")
        if info.ack_floor.stream_seq >= last and info.num_ack_pending == 0:
            break
        if time.perf_counter() > deadline:
            raise RuntimeError(f"results not recorded within {timeout}s: {info}")
        await asyncio.sleep(0.02)
    done = time.perf_counter()
    if (count := await _count(ctx, prefix)) != expected:
        raise RuntimeError(f"{count} of {expected} results recorded")
    return done


async def _measure(database_url: str, nats_url: str) -> dict[str, Any]:
    monitor_ids = await _seed(database_url)
    bus = await Bus.connect(nats_url, name="bench-recorder")
    # A fresh stream per backend: no consumer state, and no dedupe window remembering the last run's ids.
    with contextlib.suppress(NotFoundError):
        await bus.js.delete_stream("RESULTS")
    await bus.ensure_streams()
    with_regions = [(m, r) for m in monitor_ids for r in REGIONS]
    start = datetime.now(UTC) - timedelta(hours=2)
    backlog = [
        _result(f"backlog-{n}", *with_regions[n % len(with_regions)], start + timedelta(milliseconds=360 * n))
        for n in range(BACKLOG)
    ]
    for offset in range(0, BACKLOG, 500):
        await _publish(bus, backlog[offset : offset + 500])

    ctx = ServiceContext(name="bench", settings=Settings(database_url=database_url, nats_url=nats_url))
    ctx.attach(engine=create_engine(database_url), bus=bus)
    worker = asyncio.create_task(run_recorder(ctx))
    try:
        began = time.perf_counter()
        drained = await _wait_recorded(ctx, "backlog-", BACKLOG)
        backlog_rate = BACKLOG / (drained - began)

        # Paced: PACED_RATE results per second, each scheduled the moment it is published.
        total = PACED_RATE * PACED_SECONDS
        per_tick = PACED_RATE * TICK
        sent = 0
        began = time.perf_counter()
        while sent < total:
            due = min(total, int((time.perf_counter() - began) / TICK * per_tick) + int(per_tick))
            now = datetime.now(UTC)
            batch = [
                _result(f"paced-{n}", *with_regions[n % len(with_regions)], now) for n in range(sent, due)
            ]
            await _publish(bus, batch)
            sent = due
            await asyncio.sleep(TICK)
        published = time.perf_counter()
        drained = await _wait_recorded(ctx, "paced-", total)
        delays = await _delays(ctx)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(worker, 30)
        await ctx.engine.dispose()
        await bus.close()
    return {
        "backlog_results": BACKLOG,
        "backlog_recorded_per_second": round(backlog_rate),
        "paced_target_per_second": PACED_RATE,
        "paced_published_per_second": round(total / (published - began)),
        "paced_recorded_per_second": round(total / (drained - began)),
        "paced_schedule_to_recorded_ms": {
            "p50": _nearest(delays, 50),
            "p99": _nearest(delays, 99),
            "max": round(max(delays)),
        },
    }


async def _delays(ctx: ServiceContext) -> list[float]:
    async with ctx.engine.connect() as connection:
        rows = await connection.execute(
            select(CheckResultRow.scheduled_at, CheckResultRow.created_at).where(
                CheckResultRow.id.like("paced-%")
            )
        )
        return sorted((created - scheduled).total_seconds() * 1000 for scheduled, created in rows)


def _nearest(ordered: list[float], p: float) -> int:
    return round(ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)])


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
    # One log line per batch would be measured too: keep warnings and errors only.
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
