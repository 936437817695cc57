"""The scheduler's loop: a heap of due instants, one job per monitor and region per slot.

Changes arrive through ``upsert``/``remove`` (from the key-value watch) and take effect at once. Jobs carry
the id ``monitor:region:slot``, so a second replica or a restarted scheduler publishing the same slot is
deduplicated by JetStream, and they expire when the next slot is due, so probes never work on stale jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from openstatus_common.messages import CheckJob, ScheduleEntry, check_job_id
from scheduler.slots import phase_ms, slot_after, slot_at_or_before

log = structlog.get_logger(__name__)

# A monitor seen for the first time also gets the slot that just passed when the monitor changed after
# that slot (a new or resumed monitor is checked at once) or when the slot is this recent (a restart right
# at a slot must not skip it; if the old process had published it, the job id deduplicates).
RECENT_SLOT_GRACE_MS = 5_000
PUBLISH_CONCURRENCY = 256

Publish = Callable[[CheckJob], Awaitable[None]]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass
class Counters:
    published: int = 0
    skipped_late: int = 0
    publish_failures: int = 0


@dataclass
class Scheduler:
    publish: Publish
    clock: Callable[[], int] = now_ms
    entries: dict[int, ScheduleEntry] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    _heap: list[tuple[int, int, int]] = field(default_factory=list)
    _generation: dict[int, int] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _immediate: list[tuple[int, ScheduleEntry]] = field(default_factory=list)

    def upsert(self, entry: ScheduleEntry) -> None:
        previous = self.entries.get(entry.monitor_id)
        self.entries[entry.monitor_id] = entry
        if previous is not None and previous.period_s == entry.period_s:
            return  # same cadence: the queued slot stands, and it will use the new configuration
        period = entry.period_s * 1000
        phase = phase_ms(entry.monitor_id, period)
        now = self.clock()
        generation = self._generation.get(entry.monitor_id, 0) + 1
        self._generation[entry.monitor_id] = generation
        heapq.heappush(self._heap, (slot_after(now, period, phase), entry.monitor_id, generation))
        if previous is None:
            last = slot_at_or_before(now, period, phase)
            changed_ms = int(entry.updated_at.timestamp() * 1000)
            if changed_ms > last:
                # New (or resumed) since the last slot: check it now, dated when it changed, never before it
                # existed. The date is stable across restarts and replicas, so the job ids deduplicate. A
                # change stamped ahead of this clock (skew) keeps the slot, which every replica agrees on.
                self._immediate.append((changed_ms if changed_ms <= now else last, entry))
            elif now - last <= RECENT_SLOT_GRACE_MS:
                self._immediate.append((last, entry))  # a slot just missed, e.g. across a restart
        self._wake.set()

    def remove(self, monitor_id: int) -> None:
        if self.entries.pop(monitor_id, None) is not None:
            self._generation[monitor_id] = self._generation.get(monitor_id, 0) + 1
            self._wake.set()

    def due_jobs(self) -> list[CheckJob]:
        """Pop every slot that is due now and return its jobs; queue each monitor's next slot."""
        now = self.clock()
        jobs: list[CheckJob] = []
        for slot, entry in self._immediate:
            if self.entries.get(entry.monitor_id) is entry:
                jobs.extend(self._jobs(entry, slot))
        self._immediate.clear()
        while self._heap and self._heap[0][0] <= now:
            slot, monitor_id, generation = heapq.heappop(self._heap)
            current = self.entries.get(monitor_id)
            if current is None or self._generation.get(monitor_id) != generation:
                continue  # removed or rescheduled since this slot was queued
            entry = current
            period = entry.period_s * 1000
            if now - slot >= period:
                # We fell a whole period behind (the process was stalled): skip to the next slot.
                self.counters.skipped_late += 1
                heapq.heappush(
                    self._heap,
                    (slot_after(now, period, phase_ms(monitor_id, period)), monitor_id, generation),
                )
                continue
            jobs.extend(self._jobs(entry, slot))
            heapq.heappush(self._heap, (slot + period, monitor_id, generation))
        return jobs

    def _jobs(self, entry: ScheduleEntry, slot: int) -> list[CheckJob]:
        scheduled_at = _at(slot)
        expires_at = _at(slot + entry.period_s * 1000)
        return [
            CheckJob(
                job_id=check_job_id(entry.monitor_id, region, scheduled_at),
                monitor_id=entry.monitor_id,
                workspace_id=entry.workspace_id,
                region=region,
                scheduled_at=scheduled_at,
                expires_at=expires_at,
                target=entry.target,
            )
            for region in entry.regions
        ]

    def seconds_until_next(self) -> float | None:
        if self._immediate:
            return 0.0
        while self._heap:
            slot, monitor_id, generation = self._heap[0]
            if monitor_id in self.entries and self._generation.get(monitor_id) == generation:
                return max(0.0, (slot - self.clock()) / 1000)
            heapq.heappop(self._heap)  # stale head: drop it
        return None

    async def run(self, stop: asyncio.Event) -> None:
        semaphore = asyncio.Semaphore(PUBLISH_CONCURRENCY)
        pending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            for job in self.due_jobs():
                await semaphore.acquire()
                task = asyncio.create_task(self._publish(job, semaphore))
                pending.add(task)
                task.add_done_callback(pending.discard)
            wait = self.seconds_until_next()
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def _publish(self, job: CheckJob, semaphore: asyncio.Semaphore) -> None:
        try:
            while True:
                try:
                    await self.publish(job)
                    self.counters.published += 1
                    return
                except Exception as error:
                    self.counters.publish_failures += 1
                    if datetime.now(UTC) >= job.expires_at:
                        log.error("scheduler.job_lost", job_id=job.job_id, error=str(error))
                        return
                    log.warning("scheduler.publish_retry", job_id=job.job_id, error=str(error))
                    await asyncio.sleep(1.0)
        finally:
            semaphore.release()
