"""The whole pipeline on this machine: scheduler -> probes (3 regions) -> recorder, against a local target.

N active HTTP monitors x 3 regions at a 1-minute period for S seconds. Reports jobs expected and recorded
(lost = expected - recorded), stale jobs dropped by probes, schedule-to-recorded latency percentiles, and the
CPU seconds each process used (where the time goes).

Environment: BENCH_MONITORS (10000), BENCH_SECONDS (300), BENCH_DB (sqlite | postgres),
BENCH_PROBE_CONCURRENCY (256).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench._common import cpu_seconds, percentile, wait_ready
from openstatus_common.db.engine import create_engine, session_factory, unit_of_work
from openstatus_common.db.migrate import upgrade
from openstatus_common.db.models import CheckResult, Monitor, Workspace
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.testing.postgres import PostgresCluster
from scheduler.slots import phase_ms, slot_after

REGIONS = ["ams", "iad", "syd"]
PERIOD_S = 60


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


async def _seed(database_url: str, monitors: int, target_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            workspace = Workspace(name="Bench", slug="bench", plan="team", limits={})
            session.add(workspace)
            await session.flush()
            rows = [
                {
                    "workspace_id": workspace.id,
                    "kind": "http",
                    "name": f"m{n}",
                    "url": f"{target_url}/m{n}",
                    "periodicity": "1m",
                    "regions": REGIONS,
                    "active": True,
                    "timeout_ms": 10_000,
                    "retry": 0,
                }
                for n in range(monitors)
            ]
            for offset in range(0, len(rows), 1000):
                await session.execute(insert(Monitor), rows[offset : offset + 1000])
    finally:
        await engine.dispose()


def _slots_in(window: tuple[datetime, datetime], monitor_id: int) -> int:
    period = PERIOD_S * 1000
    phase = phase_ms(monitor_id, period)
    start, end = (int(edge.timestamp() * 1000) for edge in window)
    first = slot_after(start - 1, period, phase)
    return 0 if first >= end else (end - 1 - first) // period + 1


async def _measure(database_url: str, window: tuple[datetime, datetime]) -> tuple[int, int, list[float]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            ids = (await session.execute(select(Monitor.id))).scalars().all()
            rows = (
                await session.execute(
                    select(CheckResult.scheduled_at, CheckResult.created_at).where(
                        CheckResult.scheduled_at >= window[0], CheckResult.scheduled_at < window[1]
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    delays = sorted((created - scheduled).total_seconds() for scheduled, created in rows)
    expected = sum(_slots_in(window, monitor_id) for monitor_id in ids) * len(REGIONS)
    return expected, len(rows), delays


async def run() -> dict[str, Any]:
    monitors = _env_int("BENCH_MONITORS", 10_000)
    seconds = _env_int("BENCH_SECONDS", 300)
    backend = os.environ.get("BENCH_DB", "sqlite")
    concurrency = _env_int("BENCH_PROBE_CONCURRENCY", 256)
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.chmod(0o755)
    nats = NatsServer(store_dir=work / "nats", port=free_port())
    await asyncio.to_thread(nats.start)
    cluster: PostgresCluster | None = None
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if backend == "postgres":
            cluster = PostgresCluster(data_dir=work / "pg")
            await asyncio.to_thread(cluster.start)
            database_url = cluster.url("postgres")
        else:
            database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        await upgrade(database_url)

        target_port = free_port()
        processes["target"] = subprocess.Popen(
            [sys.executable, "-m", "bench.target_server", str(target_port)], cwd=Path(__file__).parents[1]
        )
        await _seed(database_url, monitors, f"http://127.0.0.1:{target_port}")

        base_env = {
            **os.environ,
            "OPENSTATUS_NATS_URL": nats.url,
            "OPENSTATUS_DATABASE_URL": database_url,
            "OPENSTATUS_REGIONS": ",".join(REGIONS),
            "OPENSTATUS_LOG_LEVEL": "warning",
            "OPENSTATUS_LOG_FORMAT": "json",
            "OPENSTATUS_PROBE_CONCURRENCY": str(concurrency),
        }
        ports: list[int] = []

        def start(name: str, module: str, **env: str) -> None:
            port = free_port()
            ports.append(port)
            port_var = {
                "scheduler": "OPENSTATUS_SCHEDULER_PORT",
                "incident_engine": "OPENSTATUS_INCIDENT_ENGINE_PORT",
                "probe": "OPENSTATUS_PROBE_PORT",
            }[module]
            log = open(work / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env={**base_env, port_var: str(port), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        start("incident-engine", "incident_engine")
        for region in REGIONS:
            start(f"probe-{region}", "probe", OPENSTATUS_REGION=region)
        await wait_ready(ports)
        start("scheduler", "scheduler")
        await wait_ready(ports[-1:])
        # Measure whole slots only: from one period after start (the scheduler is warm) to the end.
        started = datetime.now(UTC)
        cpu_before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
        await asyncio.sleep(seconds)
        ended = datetime.now(UTC)
        cpu_after = {name: cpu_seconds(p.pid) for name, p in processes.items()}
        processes["scheduler"].send_signal(signal.SIGTERM)
        await asyncio.sleep(15)  # let in-flight checks and recordings finish
        window = (started + timedelta(seconds=PERIOD_S), ended - timedelta(seconds=5))
        expected, recorded, delays = await _measure(database_url, window)
        stale = sum(
            (work / f"probe-{region}.log").read_text(errors="replace").count("probe.stale_job_dropped")
            for region in REGIONS
        )
        measured_seconds = (window[1] - window[0]).total_seconds()
        return {
            "backend": backend,
            "monitors": monitors,
            "regions": len(REGIONS),
            "period_s": PERIOD_S,
            "offered_checks_per_second": round(monitors * len(REGIONS) / PERIOD_S, 1),
            "measured_seconds": round(measured_seconds),
            "expected_results": expected,
            "recorded_results": recorded,
            "lost_results": expected - recorded,
            "recorded_per_second": round(recorded / measured_seconds, 1) if measured_seconds > 0 else 0,
            "stale_jobs_dropped": stale,
            "schedule_to_recorded_s": {
                "p50": round(percentile(delays, 50), 3),
                "p95": round(percentile(delays, 95), 3),
                "p99": round(percentile(delays, 99), 3),
                "max": round(delays[-1], 3) if delays else None,
            },
            "cpu_seconds_per_process": {
                name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after
            },
        }
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await asyncio.to_thread(nats.stop)
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        shutil.rmtree(work, ignore_errors=True)
