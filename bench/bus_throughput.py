"""Bus throughput: publish N check results with dedupe ids, consume them with a durable pull consumer."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openstatus_common.bus import Bus, Consumer, ConsumerSpec, Delivery, StreamName
from openstatus_common.bus.streams import check_result_subject
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.messages import CheckResult
from openstatus_common.vocab import CheckOutcome, Region

MESSAGES = 20_000


def _result(n: int) -> CheckResult:
    now = datetime.now(UTC)
    return CheckResult(
        result_id=f"r{n}",
        job_id=f"j{n}",
        monitor_id=n % 1000,
        workspace_id=1,
        region=Region.FLY_AMS,
        scheduled_at=now,
        started_at=now,
        finished_at=now,
        outcome=CheckOutcome.SUCCESS,
        latency_ms=12.5,
        status_code=200,
    )


async def run() -> dict[str, Any]:
    store = Path(tempfile.mkdtemp(prefix="bench-nats-"))
    server = NatsServer(store_dir=store, port=free_port())
    await asyncio.to_thread(server.start)
    try:
        bus = await Bus.connect(server.url, name="bench")
        await bus.ensure_streams()
        payloads = [_result(n) for n in range(MESSAGES)]
        started = time.perf_counter()
        window = 256
        for offset in range(0, MESSAGES, window):
            batch = payloads[offset : offset + window]
            await asyncio.gather(
                *(
                    bus.publish(check_result_subject(m.region, m.monitor_id), m, msg_id=m.result_id)
                    for m in batch
                )
            )
        publish_seconds = time.perf_counter() - started

        done = asyncio.Event()
        count = 0

        async def handler(_delivery: Delivery[CheckResult]) -> None:
            nonlocal count
            count += 1
            if count == MESSAGES:
                done.set()

        spec = ConsumerSpec(
            stream=StreamName.RESULTS.value,
            durable="bench",
            filter_subject="checks.result.>",
            concurrency=256,
        )
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(Consumer(bus, spec, CheckResult, handler).run(stop))
        await asyncio.wait_for(done.wait(), 300)
        consume_seconds = time.perf_counter() - started
        stop.set()
        await task
        await bus.close()
        return {
            "messages": MESSAGES,
            "publish_per_second": round(MESSAGES / publish_seconds),
            "consume_and_ack_per_second": round(MESSAGES / consume_seconds),
        }
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(store, ignore_errors=True)
