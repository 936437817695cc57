"""One probe process behind the bus: jobs published at a fixed rate, job lag and throughput measured.

Jobs go to ``checks.run.ams`` at BENCH_PROBE_RATE per second (default: 500, 1000 and 1500 in turn) for
BENCH_PROBE_SECONDS (30) each, against a local target that closes every connection. Job lag is a result's
``started_at`` minus its job's ``scheduled_at``; peak memory is the probe's VmHWM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import peak_rss_mib, percentile, wait_ready
from openstatus_common.bus import Bus
from openstatus_common.bus.streams import check_job_subject
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.messages import CheckJob, CheckResult, CheckTarget
from openstatus_common.vocab import Region


async def _one_rate(bus: Bus, target: str, rate: int, seconds: int) -> dict[str, Any]:
    lags: list[float] = []
    done = asyncio.Event()
    total = rate * seconds

    async def on_result(msg: Any) -> None:
        result = CheckResult.model_validate_json(msg.data)
        lags.append((result.started_at - result.scheduled_at).total_seconds())
        if len(lags) >= total:
            done.set()

    subscription = await bus.nc.subscribe("checks.result.ams.>", cb=on_result)
    started = time.monotonic()
    run = f"{rate}-{int(time.time())}"
    for second in range(seconds):
        tick = started + second
        now = datetime.now(UTC)
        jobs = [
            CheckJob(
                job_id=f"{run}:{second}:{n}",
                monitor_id=n,
                workspace_id=1,
                region=Region.FLY_AMS,
                scheduled_at=now,
                expires_at=now + timedelta(seconds=60),
                target=CheckTarget(kind="http", url=target, retry=0, timeout_ms=10_000),
            )
            for n in range(rate)
        ]
        await asyncio.gather(*(bus.publish(check_job_subject(j.region), j, msg_id=j.job_id) for j in jobs))
        await asyncio.sleep(max(0.0, tick + 1 - time.monotonic()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 60)
    elapsed = time.monotonic() - started
    await subscription.unsubscribe()
    return {
        "offered_per_second": rate,
        "completed": len(lags),
        "completed_per_second": round(len(lags) / elapsed, 1),
        "job_lag_s": {"p50": round(percentile(lags, 50), 3), "p99": round(percentile(lags, 99), 3)},
    }


async def run() -> dict[str, Any]:
    rates = [int(r) for r in os.environ.get("BENCH_PROBE_RATE", "500,1000,1500").split(",")]
    seconds = int(os.environ.get("BENCH_PROBE_SECONDS", "30"))
    work = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    nats = NatsServer(store_dir=work / "nats", port=free_port())
    await asyncio.to_thread(nats.start)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        target_port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.target_server", str(target_port)], cwd=Path(__file__).parents[1]
            )
        )
        probe_port = free_port()
        probe = subprocess.Popen(
            [sys.executable, "-m", "probe"],
            env={
                **os.environ,
                "OPENSTATUS_NATS_URL": nats.url,
                "OPENSTATUS_REGION": "ams",
                "OPENSTATUS_PROBE_PORT": str(probe_port),
                "OPENSTATUS_PROBE_CONCURRENCY": "256",
                "OPENSTATUS_LOG_LEVEL": "warning",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(probe)
        await wait_ready([probe_port], timeout=30)
        bus = await Bus.connect(nats.url, name="bench")
        await bus.ensure_streams()
        results = [await _one_rate(bus, f"http://127.0.0.1:{target_port}/", rate, seconds) for rate in rates]
        await bus.close()
        return {"seconds_per_rate": seconds, "rates": results, "probe_peak_rss_mib": peak_rss_mib(probe.pid)}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await asyncio.to_thread(nats.stop)
        shutil.rmtree(work, ignore_errors=True)
