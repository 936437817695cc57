"""Outage to alert, end to end: every service as a process, a target that goes down on demand, a webhook.

N monitors (30 s period, 3 regions) all point at one local target and are linked to one webhook channel.
Once every monitor is healthy the target starts answering 500. Per monitor we time the moment the target
went down to the moment the webhook receiver holds its ``error`` alert, then bring the target back and wait
for every ``recovered``. Reports detection latency percentiles, time until the last alert, lost and
duplicated alerts.

Environment: BENCH_ALERT_MONITORS (1000; use 20 for the light-load detection figure), BENCH_DB.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from bench._common import percentile, wait_ready
from openstatus_common.db.engine import create_engine, session_factory, unit_of_work
from openstatus_common.db.migrate import upgrade
from openstatus_common.db.models import Monitor, MonitorRegionState, monitor_notifications
from openstatus_common.local.bootstrap import ensure_demo_workspace
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.testing.postgres import PostgresCluster
from openstatus_common.testing.receivers import HttpReceiver

REGIONS = ["ams", "iad", "syd"]
PERIOD_S = 30


async def _healthy_regions(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(MonitorRegionState)
                        .where(MonitorRegionState.verdict == "success")
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


async def _until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.2)
    return False


async def run() -> dict[str, Any]:
    monitors = int(os.environ.get("BENCH_ALERT_MONITORS", "1000"))
    backend = os.environ.get("BENCH_DB", "sqlite")
    work = Path(tempfile.mkdtemp(prefix="bench-alerting-"))
    work.chmod(0o755)
    nats = NatsServer(store_dir=work / "nats", port=free_port())
    await asyncio.to_thread(nats.start)
    cluster: PostgresCluster | None = None
    processes: list[subprocess.Popen[bytes]] = []
    receiver = HttpReceiver().start()
    try:
        if backend == "postgres":
            cluster = PostgresCluster(data_dir=work / "pg")
            await asyncio.to_thread(cluster.start)
            database_url = cluster.url("postgres")
        else:
            database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        await upgrade(database_url)
        demo = await ensure_demo_workspace(database_url, key_file=work / "key")
        target_port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.target_server", str(target_port)], cwd=Path(__file__).parents[1]
            )
        )
        engine = create_engine(database_url)
        try:
            async with unit_of_work(session_factory(engine)) as session:
                rows = [
                    {
                        "workspace_id": demo.workspace_id,
                        "kind": "http",
                        "name": f"m{n}",
                        "url": f"http://127.0.0.1:{target_port}/m{n}",
                        "periodicity": "30s",
                        "regions": REGIONS,
                        "active": True,
                        "timeout_ms": 10_000,
                        "retry": 0,
                    }
                    for n in range(monitors)
                ]
                await session.execute(insert(Monitor), rows)
            async with session_factory(engine)() as session:
                ids = list((await session.execute(select(Monitor.id))).scalars())
        finally:
            await engine.dispose()

        env = {
            **os.environ,
            "OPENSTATUS_NATS_URL": nats.url,
            "OPENSTATUS_DATABASE_URL": database_url,
            "OPENSTATUS_REGIONS": ",".join(REGIONS),
            "OPENSTATUS_LOG_LEVEL": "warning",
            "OPENSTATUS_LOG_FORMAT": "json",
        }
        api_port = free_port()
        plan = [("api", {"OPENSTATUS_API_PORT": str(api_port)}, api_port)]
        for module, variable in (
            ("incident_engine", "OPENSTATUS_INCIDENT_ENGINE_PORT"),
            ("notifier", "OPENSTATUS_NOTIFIER_PORT"),
            ("scheduler", "OPENSTATUS_SCHEDULER_PORT"),
        ):
            port = free_port()
            plan.append((module, {variable: str(port)}, port))
        for region in REGIONS:
            port = free_port()
            plan.append(("probe", {"OPENSTATUS_REGION": region, "OPENSTATUS_PROBE_PORT": str(port)}, port))
        for index, (module, extra, _port) in enumerate(plan):
            log = open(work / f"{index}-{module}.log", "wb")  # noqa: SIM115 (closed with the process)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", module], env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT
                )
            )
        for _module, _extra, port in plan:
            await wait_ready([port])
        async with httpx.AsyncClient(timeout=60) as client:
            channel = await client.post(
                f"http://127.0.0.1:{api_port}/v1/notification",
                json={
                    "name": "bench",
                    "provider": "webhook",
                    "data": {"endpoint": f"{receiver.url}/hook"},
                },
                headers={"x-openstatus-key": demo.api_key},
            )
            if channel.status_code != 201:
                raise RuntimeError(f"creating the channel failed: {channel.text}")
            # The API links at most 500 monitors per request; link them all directly.
            engine = create_engine(database_url)
            try:
                async with unit_of_work(session_factory(engine)) as session:
                    channel_id = int(channel.json()["id"])
                    await session.execute(
                        insert(monitor_notifications),
                        [{"monitor_id": i, "channel_id": channel_id} for i in ids],
                    )
            finally:
                await engine.dispose()

            async def all_healthy() -> bool:
                return await _healthy_regions(database_url) >= monitors * len(REGIONS)

            if not await _until(all_healthy, 3 * PERIOD_S):
                raise RuntimeError("monitors did not all become healthy")

            down_at = time.monotonic()
            await client.post(f"http://127.0.0.1:{target_port}/__down")

            def statuses(status: str) -> list[tuple[int, float]]:
                found = []
                for item in receiver.at("/hook"):
                    body = item.json()
                    if body["status"] == status:
                        found.append((body["monitor"]["id"], item.at))
                return found

            async def all_alerted() -> bool:
                return len({m for m, _ in statuses("error")}) >= monitors

            await _until(all_alerted, 4 * PERIOD_S)
            errors = statuses("error")
            first_alert: dict[int, float] = {}
            for monitor_id, at in errors:
                first_alert.setdefault(monitor_id, at)
            detection = [at - down_at for at in first_alert.values()]

            up_at = time.monotonic()
            await client.post(f"http://127.0.0.1:{target_port}/__up")

            async def all_recovered() -> bool:
                return len({m for m, _ in statuses("recovered")}) >= monitors

            await _until(all_recovered, 4 * PERIOD_S)
            recoveries = statuses("recovered")
            first_recovery: dict[int, float] = {}
            for monitor_id, at in recoveries:
                first_recovery.setdefault(monitor_id, at)
            await asyncio.sleep(5)  # anything sent twice would arrive now
            errors, recoveries = statuses("error"), statuses("recovered")
        duplicates = (len(errors) - len({m for m, _ in errors})) + (
            len(recoveries) - len({m for m, _ in recoveries})
        )
        return {
            "backend": backend,
            "monitors": monitors,
            "regions": len(REGIONS),
            "period_s": PERIOD_S,
            "outages": monitors,
            "alerts_received": len(first_alert),
            "alerts_lost": monitors - len(first_alert),
            "error_alerts_total": len(errors),
            "recovered_total": len(recoveries),
            "duplicates": duplicates,
            "detection_s": {
                "p50": round(percentile(detection, 50), 2),
                "p95": round(percentile(detection, 95), 2),
                "max": round(max(detection), 2) if detection else None,
            },
            "last_alert_after_s": round(max(detection), 2) if detection else None,
            "last_recovery_after_s": round(max(first_recovery.values()) - up_at, 2)
            if first_recovery
            else None,
            "target_p95_s": PERIOD_S + 3,
        }
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        receiver.stop()
        await asyncio.to_thread(nats.stop)
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        shutil.rmtree(work, ignore_errors=True)
