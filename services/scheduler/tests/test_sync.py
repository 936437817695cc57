"""The scheduler against real NATS: monitor changes through the bucket reach it within a second, and two
replicas publish each job once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import check_job_subject
from openstatus_common.messages import MONITORS_BUCKET, CheckJob, CheckTarget, ScheduleEntry
from openstatus_common.testing.processes import wait_for
from openstatus_common.vocab import Region
from scheduler.engine import Scheduler
from scheduler.sync import watch_bucket


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


def entry(monitor_id: int) -> ScheduleEntry:
    return ScheduleEntry(
        monitor_id=monitor_id,
        workspace_id=1,
        period_s=30,
        regions=(Region.FLY_AMS, Region.FLY_SYD),
        target=CheckTarget(kind="http", url="http://127.0.0.1:1"),
        updated_at=datetime.now(UTC),
    )


async def test_bucket_changes_reach_the_scheduler(bus: Bus) -> None:
    # Generous timeouts: this checks that changes arrive, not how fast (a loaded CI machine stalls).
    kv = await bus.key_value(MONITORS_BUCKET)
    await kv.put("1", entry(1).model_dump_json().encode())
    scheduler = Scheduler(publish=lambda job: asyncio.sleep(0))
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_bucket(kv, scheduler, stop))
    try:

        async def loaded() -> bool:
            return 1 in scheduler.entries

        await wait_for(loaded, timeout=5.0)
        await kv.put("2", entry(2).model_dump_json().encode())

        async def added() -> bool:
            return 2 in scheduler.entries

        await wait_for(added, timeout=5.0)
        await kv.delete("1")

        async def removed() -> bool:
            return 1 not in scheduler.entries

        await wait_for(removed, timeout=5.0)
    finally:
        stop.set()
        await watcher


async def test_two_replicas_publish_each_job_once(bus: Bus) -> None:
    job_ids: list[str] = []

    async def publish(job: CheckJob) -> None:
        await bus.publish(check_job_subject(job.region), job, msg_id=job.job_id)
        job_ids.append(job.job_id)

    replicas = [Scheduler(publish=publish), Scheduler(publish=publish)]
    stop = asyncio.Event()
    for replica in replicas:
        for monitor_id in range(1, 51):
            replica.upsert(entry(monitor_id))  # new monitors: each gets an immediate check
    runs = [asyncio.create_task(replica.run(stop)) for replica in replicas]

    async def all_published() -> bool:
        # At least the immediate checks; a monitor's regular slot may also fall inside the test.
        return all(replica.counters.published >= 100 for replica in replicas)

    await wait_for(all_published, timeout=10)
    stop.set()
    await asyncio.gather(*runs)
    info = await bus.js.stream_info("CHECKS")
    assert len(job_ids) >= 200  # both replicas published everything...
    assert info.state.messages == len(set(job_ids))  # ...and the stream holds each job once
