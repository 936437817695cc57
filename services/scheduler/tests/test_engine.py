"""Scheduling rules with a controlled clock: phases, cadence, changes, restarts, stalls."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

from openstatus_common.messages import CheckJob, CheckTarget, ScheduleEntry
from openstatus_common.vocab import Region
from scheduler.engine import Scheduler
from scheduler.slots import phase_ms, slot_after, slot_at_or_before

HOUR_AGO = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def entry(
    monitor_id: int, period_s: int = 60, *, updated_at: datetime = HOUR_AGO, url: str = "http://x"
) -> ScheduleEntry:
    return ScheduleEntry(
        monitor_id=monitor_id,
        workspace_id=1,
        period_s=period_s,
        regions=(Region.FLY_AMS, Region.FLY_IAD),
        target=CheckTarget(kind="http", url=url),
        updated_at=updated_at,
    )


async def no_publish(_job: CheckJob) -> None:
    return None


def make(clock: Clock) -> Scheduler:
    return Scheduler(publish=no_publish, clock=clock)


def run_until(scheduler: Scheduler, clock: Clock, end_ms: int, step_ms: int = 250) -> list[CheckJob]:
    jobs: list[CheckJob] = []
    while clock.ms <= end_ms:
        jobs.extend(scheduler.due_jobs())
        clock.ms += step_ms
    return jobs


def test_slot_arithmetic() -> None:
    assert slot_after(1000, 60_000, 500) == 60_500
    assert slot_after(60_500, 60_000, 500) == 120_500
    assert slot_at_or_before(60_500, 60_000, 500) == 60_500
    assert slot_at_or_before(60_499, 60_000, 500) == 500


def test_phases_spread_monitors_evenly_over_the_period() -> None:
    per_second = Counter(phase_ms(monitor_id, 60_000) // 1000 for monitor_id in range(10_000))
    assert len(per_second) == 60
    mean = 10_000 / 60
    assert max(per_second.values()) < mean * 1.5
    assert min(per_second.values()) > mean * 0.5
    assert phase_ms(42, 60_000) == phase_ms(42, 60_000)  # stable across processes


def test_cadence_does_not_drift_and_each_region_gets_one_job_per_slot() -> None:
    clock = Clock(1_800_000_000_000)
    scheduler = make(clock)
    scheduler.upsert(entry(7, period_s=30))
    jobs = run_until(scheduler, clock, clock.ms + 3_600_000, step_ms=333)
    ams = sorted(int(job.scheduled_at.timestamp() * 1000) for job in jobs if job.region is Region.FLY_AMS)
    assert len(ams) == 120
    assert {b - a for a, b in itertools.pairwise(ams)} == {30_000}
    assert all(t % 30_000 == phase_ms(7, 30_000) for t in ams)
    assert len({job.job_id for job in jobs}) == len(jobs) == 240
    first = jobs[0]
    assert first.expires_at.timestamp() - first.scheduled_at.timestamp() == 30


def test_new_monitor_is_checked_at_once_then_on_its_slots() -> None:
    clock = Clock(1_800_000_000_000)
    scheduler = make(clock)
    created_ms = clock.ms - 1_500
    assert created_ms > slot_at_or_before(clock.ms, 60_000, phase_ms(1, 60_000))
    scheduler.upsert(entry(1, updated_at=datetime.fromtimestamp(created_ms / 1000, tz=UTC)))
    immediate = scheduler.due_jobs()
    assert {job.region for job in immediate} == {Region.FLY_AMS, Region.FLY_IAD}
    # Dated when the monitor was created, not at the slot before it existed (results, incidents and
    # "outage since" would otherwise predate the monitor by up to a period).
    assert all(int(job.scheduled_at.timestamp() * 1000) == created_ms for job in immediate)
    assert {job.job_id for job in immediate} == {f"1:ams:{created_ms}", f"1:iad:{created_ms}"}
    assert scheduler.due_jobs() == []
    # Then on its slots.
    slot = slot_after(clock.ms, 60_000, phase_ms(1, 60_000))
    jobs = run_until(scheduler, clock, clock.ms + 59_999)
    assert {int(job.scheduled_at.timestamp() * 1000) for job in jobs} == {slot}


def test_restart_away_from_a_slot_publishes_nothing_extra_but_right_at_a_slot_republishes_it() -> None:
    period = 60_000
    phase = phase_ms(3, period)
    slot = slot_after(1_800_000_000_000, period, phase)

    away = Clock(slot + 30_000)
    scheduler = make(away)
    scheduler.upsert(entry(3))
    assert scheduler.due_jobs() == []

    near = Clock(slot + 1_000)
    restarted = make(near)
    restarted.upsert(entry(3))
    jobs = restarted.due_jobs()
    assert len(jobs) == 2
    # The same ids as the old process would have used: JetStream drops the duplicate.
    assert {job.job_id for job in jobs} == {f"3:ams:{slot}", f"3:iad:{slot}"}


def test_remove_stops_jobs_and_update_keeps_the_slot_but_uses_the_new_target() -> None:
    clock = Clock(1_800_000_000_000)
    scheduler = make(clock)
    scheduler.upsert(entry(5))
    run_until(scheduler, clock, clock.ms + 60_000)
    scheduler.upsert(entry(5, url="http://changed"))
    later = run_until(scheduler, clock, clock.ms + 60_000)
    assert later and all(job.target.url == "http://changed" for job in later)
    scheduler.remove(5)
    assert run_until(scheduler, clock, clock.ms + 300_000) == []
    assert scheduler.seconds_until_next() is None


def test_period_change_reschedules() -> None:
    clock = Clock(1_800_000_000_000)
    scheduler = make(clock)
    scheduler.upsert(entry(9, period_s=3600))
    scheduler.upsert(entry(9, period_s=30))
    jobs = run_until(scheduler, clock, clock.ms + 60_000)
    assert len([job for job in jobs if job.region is Region.FLY_AMS]) == 2


def test_a_stalled_scheduler_skips_stale_slots_and_counts_them() -> None:
    clock = Clock(1_800_000_000_000)
    scheduler = make(clock)
    scheduler.upsert(entry(11, period_s=30))
    clock.ms += 10 * 60_000  # ten minutes without running
    jobs = scheduler.due_jobs()
    assert jobs == []
    assert scheduler.counters.skipped_late == 1
    assert len(run_until(scheduler, clock, clock.ms + 30_000)) == 2
