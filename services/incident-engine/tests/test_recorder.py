"""The recorder: raw results and rollups on both databases, the read side, and the worker on a real bus."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from incident_engine.recorder import (
    maintain_partitions,
    record_results,
    run_partition_maintenance,
    run_recorder,
)
from incident_engine.recorder.consumer import database_unavailable
from incident_engine.recorder.service import day_start, hour_start
from openstatus_common.bus import Bus
from openstatus_common.bus.consumer import DLQ_REASON
from openstatus_common.bus.streams import check_result_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import create_engine, session_factory, unit_of_work
from openstatus_common.db.models import CheckResult as CheckResultRow
from openstatus_common.db.models import CheckRollup, Monitor, Workspace
from openstatus_common.db.partitions import partition_name
from openstatus_common.errors import InvalidArgument
from openstatus_common.messages import CheckResult, Timing
from openstatus_common.results import (
    MonitorSummary,
    latest_status,
    list_results,
    monitor_summary,
    summary_window,
)
from openstatus_common.rules.latency import (
    RELATIVE_RESOLUTION,
    bucket_index,
    bucket_value,
    nearest_rank,
    parse_histogram,
)
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.processes import wait_for
from openstatus_common.vocab import CheckOutcome, Region

AMS, IAD, SYD = Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD
_ids = itertools.count(1)

# --- factories --------------------------------------------------------------------------------------------


async def make_monitor(sessions: async_sessionmaker[AsyncSession], name: str = "API") -> Monitor:
    async with sessions() as session, session.begin():
        workspace = Workspace(name="Acme", slug=f"acme-{next(_ids)}")
        session.add(workspace)
        await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id, kind="http", name=name, url="https://example.com", periodicity="1m"
        )
        session.add(monitor)
    return monitor


def make_result(
    monitor: Monitor | int,
    scheduled_at: datetime,
    *,
    region: Region = AMS,
    outcome: CheckOutcome = CheckOutcome.SUCCESS,
    latency_ms: float = 42.0,
    result_id: str | None = None,
    **fields: Any,
) -> CheckResult:
    monitor_id = monitor if isinstance(monitor, int) else monitor.id
    workspace_id = 1 if isinstance(monitor, int) else monitor.workspace_id
    return CheckResult(
        result_id=result_id or f"r-{next(_ids)}",
        job_id=f"{monitor_id}:{region.value}:{int(scheduled_at.timestamp() * 1000)}",
        monitor_id=monitor_id,
        workspace_id=workspace_id,
        region=region,
        scheduled_at=scheduled_at,
        started_at=scheduled_at + timedelta(milliseconds=5),
        finished_at=scheduled_at + timedelta(milliseconds=5 + min(latency_ms, 1e9)),
        outcome=outcome,
        latency_ms=latency_ms,
        status_code=200 if outcome != CheckOutcome.ERROR else 500,
        **fields,
    )


async def record(sessions: async_sessionmaker[AsyncSession], results: Sequence[CheckResult]) -> int:
    async with unit_of_work(sessions) as session:
        return await record_results(session, results)


async def rollups(sessions: async_sessionmaker[AsyncSession], granularity: str) -> list[CheckRollup]:
    async with sessions() as session:
        rows = await session.execute(
            select(CheckRollup)
            .where(CheckRollup.granularity == granularity)
            .order_by(CheckRollup.monitor_id, CheckRollup.region, CheckRollup.bucket_start)
        )
        return list(rows.scalars())


async def count_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(CheckResultRow))).scalar_one())


def base_hour() -> datetime:
    """A whole hour a few hours back, so every test hour lies in the past and in a partition."""
    return hour_start(utcnow()) - timedelta(hours=6)


def brute_force(latencies: list[int], p: float) -> int:
    ordered = sorted(latencies)
    return ordered[nearest_rank(len(ordered), p) - 1]


def assert_percentile(answer: int | None, exact: int) -> None:
    assert answer is not None
    assert answer == bucket_value(bucket_index(exact))
    assert abs(answer - exact) <= exact * RELATIVE_RESOLUTION / 2


# --- recording ----------------------------------------------------------------------------------------------


async def test_results_are_stored_with_their_details(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    at = base_hour() + timedelta(minutes=7)
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    message = make_result(
        monitor,
        at,
        latency_ms=123.4,
        timing=Timing(dns_ms=1.5, connect_ms=2.0, ttfb_ms=100.0),
        response_headers={"content-type": "text/html"},
        dns_records={"A": ["1.2.3.4"]},
        certificate_expires_at=expires,
        attempts=2,
    )
    assert await record(sessions, [message]) == 1

    async with sessions() as session:
        rows, total = await list_results(session, monitor_id=monitor.id)
    assert total == 1
    [row] = rows
    assert (row.id, row.region, row.outcome, row.latency_ms, row.status_code, row.attempts) == (
        message.result_id,
        "ams",
        "success",
        123,
        200,
        2,
    )
    assert row.scheduled_at == at
    assert row.finished_at == message.finished_at
    assert row.timing == {"dns": 1.5, "connect": 2.0, "ttfb": 100.0}
    assert row.response_headers == {"content-type": "text/html"}
    assert row.dns_records == {"A": ["1.2.3.4"]}
    assert row.certificate_expires_at == expires
    assert row.workspace_id == monitor.workspace_id


async def test_the_same_result_twice_is_recorded_and_counted_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monitor = await make_monitor(sessions)
    at = base_hour() + timedelta(minutes=1)
    first = make_result(monitor, at, latency_ms=10)
    second = make_result(monitor, at + timedelta(minutes=1), latency_ms=20)

    assert await record(sessions, [first, first, second]) == 2  # a duplicate within the batch
    assert await record(sessions, [first]) == 0  # a redelivery
    assert await record(sessions, [second, first]) == 0

    assert await count_rows(sessions) == 2
    for granularity in ("hour", "day"):
        [rollup] = await rollups(sessions, granularity)
        assert (rollup.success_count, rollup.latency_sum_ms) == (2, 30)
        assert parse_histogram(rollup.latency_histogram) == {"10": 1, "20": 1}


async def test_rollups_split_at_hour_and_day_boundaries(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    midnight = day_start(utcnow())
    last_moment_of_yesterday = midnight - timedelta(microseconds=1)
    results = [
        make_result(monitor, last_moment_of_yesterday, latency_ms=5),
        make_result(monitor, midnight, latency_ms=7, outcome=CheckOutcome.DEGRADED),
        make_result(monitor, midnight + timedelta(minutes=59, seconds=59), latency_ms=9),
        make_result(monitor, midnight + timedelta(hours=1), latency_ms=11, outcome=CheckOutcome.ERROR),
        make_result(monitor, midnight + timedelta(hours=1), latency_ms=13, region=IAD),
    ]
    # Recorded over several batches, so rows are created and then updated.
    assert await record(sessions, results[:2]) == 2
    assert await record(sessions, results[2:]) == 3

    hourly = {
        (r.region, r.bucket_start): (r.success_count, r.degraded_count, r.error_count, r.latency_sum_ms)
        for r in await rollups(sessions, "hour")
    }
    assert hourly == {
        ("ams", midnight - timedelta(hours=1)): (1, 0, 0, 5),
        ("ams", midnight): (1, 1, 0, 16),
        ("ams", midnight + timedelta(hours=1)): (0, 0, 1, 11),
        ("iad", midnight + timedelta(hours=1)): (1, 0, 0, 13),
    }
    daily = {
        (r.region, r.bucket_start): (r.success_count, r.degraded_count, r.error_count, r.latency_sum_ms)
        for r in await rollups(sessions, "day")
    }
    assert daily == {
        ("ams", midnight - timedelta(days=1)): (1, 0, 0, 5),
        ("ams", midnight): (1, 1, 1, 27),
        ("iad", midnight): (1, 0, 0, 13),
    }
    [ams_today] = [
        r for r in await rollups(sessions, "day") if r.region == "ams" and r.bucket_start == midnight
    ]
    assert parse_histogram(ams_today.latency_histogram) == {"7": 1, "9": 1, "11": 1}
    assert ams_today.last_scheduled_at == midnight + timedelta(hours=1)
    assert (ams_today.last_outcome, ams_today.last_latency_ms) == ("error", 11)


async def test_results_for_unknown_monitors_are_skipped(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    at = base_hour()
    good = make_result(monitor, at)
    results = [good, make_result(999_999, at), make_result(2**40, at), make_result(-1, at)]
    assert await record(sessions, results) == 1
    assert await count_rows(sessions) == 1
    assert [r.monitor_id for r in await rollups(sessions, "hour")] == [monitor.id]


async def test_the_workspace_comes_from_the_monitor_not_the_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monitor = await make_monitor(sessions)
    lying = make_result(monitor, base_hour()).model_copy(update={"workspace_id": monitor.workspace_id + 100})
    assert await record(sessions, [lying]) == 1
    async with sessions() as session:
        stored = (await session.execute(select(CheckResultRow.workspace_id))).scalar_one()
    assert stored == monitor.workspace_id


async def test_huge_latencies_are_clamped_not_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    assert await record(sessions, [make_result(monitor, base_hour(), latency_ms=1e15)]) == 1
    async with sessions() as session:
        stored = (await session.execute(select(CheckResultRow.latency_ms))).scalar_one()
    assert stored == 2**31 - 1


async def test_values_postgres_cannot_hold_are_cleaned(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    message = make_result(
        monitor,
        base_hour(),
        outcome=CheckOutcome.ERROR,
        error="bad \x00 byte",
        response_headers={"x-weird": "a\x00b"},
        dns_records={"TXT": ["v=\x00"]},
        timing=Timing(dns_ms=float("nan"), connect_ms=float("inf"), ttfb_ms=3.0),
    )
    assert await record(sessions, [message]) == 1
    async with sessions() as session:
        [row], _ = await list_results(session, monitor_id=monitor.id)
        [status] = await latest_status(session, monitor_id=monitor.id)
    assert row.error == status.error == "bad \ufffd byte"
    assert row.response_headers == {"x-weird": "a\ufffdb"}
    assert row.dns_records == {"TXT": ["v=\ufffd"]}
    assert row.timing == {"ttfb": 3.0}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("result_id", "x" * 256, "result_id is longer than 255"),
        ("job_id", "", "job_id is empty"),
        ("result_id", "a\x00", "NUL"),
    ],
)
async def test_results_that_can_never_be_stored_are_refused_before_writing(
    sessions: async_sessionmaker[AsyncSession], field: str, value: str, reason: str
) -> None:
    monitor = await make_monitor(sessions)
    good = make_result(monitor, base_hour())
    bad = make_result(monitor, base_hour()).model_copy(update={field: value})
    with pytest.raises(ValueError, match=reason):
        await record(sessions, [good, bad])
    assert await count_rows(sessions) == 0


async def test_concurrent_recorders_lose_no_counts(pg_url: str) -> None:
    """Two recorder replicas on PostgreSQL writing overlapping batches into the same rollup rows."""
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    try:
        monitors = [await make_monitor(sessions, name=f"m{n}") for n in range(3)]
        start = base_hour()
        results = [
            make_result(monitor, start + timedelta(seconds=n), region=region, latency_ms=n % 300)
            for n in range(240)
            for monitor, region in [(monitors[n % 3], (AMS, IAD)[n % 2])]
        ]
        batches = [random.Random(seed).sample(results, 120) for seed in range(8)]
        recorded = await asyncio.gather(*(record(sessions, batch) for batch in batches))
        covered = {r.result_id for batch in batches for r in batch}
        assert sum(recorded) == len(covered)
        assert await count_rows(sessions) == len(covered)
        for granularity in ("hour", "day"):
            rows = await rollups(sessions, granularity)
            assert sum(r.success_count for r in rows) == len(covered)
            assert sum(sum(parse_histogram(r.latency_histogram).values()) for r in rows) == len(covered)
    finally:
        await engine.dispose()


# --- summaries ----------------------------------------------------------------------------------------------


async def test_summary_percentiles_match_brute_force(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    other = await make_monitor(sessions, name="other")
    start = base_hour()
    rng = random.Random(7)
    results = []
    for n in range(900):
        scheduled = start + timedelta(seconds=rng.uniform(0, 6 * 3600))
        latency = rng.lognormvariate(4.5, 1.0) if n % 10 else rng.uniform(0, 99)
        outcome = rng.choice([CheckOutcome.SUCCESS] * 8 + [CheckOutcome.DEGRADED, CheckOutcome.ERROR])
        region = rng.choice([AMS, IAD, SYD])
        results.append(make_result(monitor, scheduled, region=region, latency_ms=latency, outcome=outcome))
    results.append(make_result(other, start + timedelta(hours=2), latency_ms=99_999))  # another monitor
    for offset in range(0, len(results), 128):
        await record(sessions, results[offset : offset + 128])

    since, until = start + timedelta(hours=1, minutes=30), start + timedelta(hours=5)
    for regions in (None, [], ["ams"], ["fly-iad", "syd"]):
        async with sessions() as session:
            summary = await monitor_summary(
                session, monitor_id=monitor.id, since=since, until=until, regions=regions
            )
        # Whole hours: from the hour holding `since` up to `until`.
        wanted = {"ams", "iad", "syd"} if not regions else {"ams"} if regions == ["ams"] else {"iad", "syd"}
        window = [
            r
            for r in results
            if r.monitor_id == monitor.id
            and r.region.value in wanted
            and start + timedelta(hours=1) <= r.scheduled_at < until
        ]
        assert summary.total_successful == sum(r.outcome == CheckOutcome.SUCCESS for r in window)
        assert summary.total_degraded == sum(r.outcome == CheckOutcome.DEGRADED for r in window)
        assert summary.total_failed == sum(r.outcome == CheckOutcome.ERROR for r in window)
        latencies = [int(r.latency_ms + 0.5) for r in window]
        for p, answer in zip(
            (50, 75, 90, 95, 99),
            (summary.p50, summary.p75, summary.p90, summary.p95, summary.p99),
            strict=True,
        ):
            assert_percentile(answer, brute_force(latencies, p))
        assert summary.last_ping_at == max(r.scheduled_at for r in window)


async def test_the_partial_first_hour_counts_in_full(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    start = base_hour()
    await record(
        sessions,
        [
            make_result(monitor, start - timedelta(seconds=1), latency_ms=1),  # the hour before: out
            make_result(
                monitor, start + timedelta(minutes=10), latency_ms=2
            ),  # before `since`, same hour: in
            make_result(monitor, start + timedelta(minutes=50), latency_ms=3),
            make_result(monitor, start + timedelta(hours=1, minutes=5), latency_ms=4),  # `until`'s hour: in
            make_result(monitor, start + timedelta(hours=2), latency_ms=5),  # after: out
        ],
    )
    async with sessions() as session:
        summary = await monitor_summary(
            session,
            monitor_id=monitor.id,
            since=start + timedelta(minutes=30),
            until=start + timedelta(hours=1, minutes=1),
            regions=None,
        )
    assert summary.total_successful == 3
    assert (summary.p50, summary.p99) == (3, 4)
    assert summary.last_ping_at == start + timedelta(hours=1, minutes=5)


async def test_a_summary_without_data_is_zero_and_none(sessions: async_sessionmaker[AsyncSession]) -> None:
    monitor = await make_monitor(sessions)
    since, until = summary_window("7d", now=utcnow())
    async with sessions() as session:
        summary = await monitor_summary(
            session, monitor_id=monitor.id, since=since, until=until, regions=None
        )
    assert summary == MonitorSummary(0, 0, 0, None, None, None, None, None, None)


async def test_summary_input_is_checked(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    with pytest.raises(InvalidArgument, match="unknown range"):
        summary_window("3d", now=now)
    async with sessions() as session:
        with pytest.raises(InvalidArgument, match="unknown region"):
            await monitor_summary(
                session, monitor_id=1, since=now - timedelta(days=1), until=now, regions=["mars"]
            )
        with pytest.raises(InvalidArgument, match="after since"):
            await monitor_summary(session, monitor_id=1, since=now, until=now, regions=None)


# --- latest status and the results list ---------------------------------------------------------------------


async def test_latest_status_is_the_newest_result_per_region(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monitor = await make_monitor(sessions)
    other = await make_monitor(sessions, name="other")
    start = base_hour()
    yesterday = start - timedelta(days=1)
    newest_ams = make_result(monitor, start + timedelta(minutes=3), outcome=CheckOutcome.ERROR, latency_ms=30)
    await record(
        sessions,
        [
            make_result(monitor, yesterday, region=SYD, outcome=CheckOutcome.DEGRADED, latency_ms=900),
            make_result(monitor, start, latency_ms=10),
            newest_ams.model_copy(update={"error": "connection refused"}),
            make_result(monitor, start + timedelta(minutes=1), region=IAD, latency_ms=20),
            make_result(other, start + timedelta(minutes=5), latency_ms=1),
        ],
    )
    # A late, older result does not replace the newer one.
    await record(sessions, [make_result(monitor, start + timedelta(minutes=2), latency_ms=11)])

    async with sessions() as session:
        statuses = await latest_status(session, monitor_id=monitor.id)
        nothing = await latest_status(session, monitor_id=other.id + 1000)
    assert [(s.region, s.outcome, s.scheduled_at, s.latency_ms) for s in statuses] == [
        ("ams", "error", start + timedelta(minutes=3), 30),
        ("iad", "success", start + timedelta(minutes=1), 20),
        ("syd", "degraded", yesterday, 900),
    ]
    assert statuses[0].error == "connection refused"
    assert statuses[0].status_code == 500
    assert nothing == []


async def test_list_results_pages_newest_first_with_filters(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monitor = await make_monitor(sessions)
    other = await make_monitor(sessions, name="other")
    start = base_hour()
    results = [
        make_result(monitor, start + timedelta(minutes=n), region=(AMS, IAD)[n % 2], result_id=f"m-{n:02d}")
        for n in range(25)
    ]
    await record(sessions, [*results, make_result(other, start)])

    async def page(**filters: Any) -> tuple[list[str], int]:
        async with sessions() as session:
            rows, total = await list_results(session, monitor_id=monitor.id, **filters)
        return [row.id for row in rows], total

    assert await page(limit=10, offset=0) == ([f"m-{n:02d}" for n in range(24, 14, -1)], 25)
    assert await page(limit=10, offset=20) == ([f"m-{n:02d}" for n in range(4, -1, -1)], 25)
    assert await page(limit=10, offset=30) == ([], 25)
    assert await page(region="iad", limit=3) == (["m-23", "m-21", "m-19"], 12)
    assert await page(region="fly-ams", limit=100) == ([f"m-{n:02d}" for n in range(24, -1, -2)], 13)
    window = {"since": start + timedelta(minutes=5), "until": start + timedelta(minutes=8)}
    assert await page(**window, limit=100) == (["m-07", "m-06", "m-05"], 3)
    assert await page(**window, region="ams", limit=100) == (["m-06"], 1)
    with pytest.raises(InvalidArgument):
        await page(limit=0)
    with pytest.raises(InvalidArgument):
        await page(offset=-1)


# --- the worker on a real bus -------------------------------------------------------------------------------


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


@pytest.fixture
async def worker_ctx(bus: Bus, db_engine: AsyncEngine, db_url: str, nats_url: str) -> ServiceContext:
    settings = Settings(
        database_url=db_url, nats_url=nats_url, bus_max_deliveries=2, bus_ack_wait=5, shutdown_timeout=5
    )
    ctx = ServiceContext(name="incident-engine", settings=settings)
    ctx.attach(engine=db_engine, bus=bus)
    return ctx


async def publish(bus: Bus, result: CheckResult, msg_id: str | None = None) -> None:
    subject = check_result_subject(result.region, result.monitor_id)
    await bus.publish(subject, result, msg_id=msg_id or result.result_id)


async def test_the_worker_records_from_the_bus_and_deadletters_malformed_results(
    worker_ctx: ServiceContext, bus: Bus, sessions: async_sessionmaker[AsyncSession]
) -> None:
    monitor = await make_monitor(sessions)
    start = base_hour()
    worker = asyncio.create_task(run_recorder(worker_ctx))
    try:
        for n in range(20):
            await publish(bus, make_result(monitor, start + timedelta(seconds=n)))
        await bus.publish(
            f"checks.result.ams.{monitor.id}", b'{"result_id": "x", "latency_ms": -1}', msg_id="bad"
        )
        await bus.publish(f"checks.result.ams.{monitor.id}", b"\xff not json", msg_id="worse")
        # Valid as a message, but its id does not fit the column.
        await publish(bus, make_result(monitor, start, result_id="x" * 300), msg_id="too-long")
        # A redelivery of a recorded result, published under another message id.
        duplicate = make_result(monitor, start + timedelta(hours=1), result_id="dup")
        await publish(bus, duplicate, msg_id="dup-1")
        await publish(bus, duplicate, msg_id="dup-2")

        async def recorded_and_deadlettered() -> bool:
            dead = (await bus.js.stream_info("DEADLETTER")).state.messages
            return await count_rows(sessions) == 21 and dead == 3

        await wait_for(recorded_and_deadlettered, timeout=15)

        # Still recording after the bad ones.
        await publish(bus, make_result(monitor, start + timedelta(hours=2)))

        async def one_more() -> bool:
            return await count_rows(sessions) == 22

        await wait_for(one_more, timeout=15)
    finally:
        worker_ctx.stop.set()
        await asyncio.wait_for(worker, 15)

    reasons = []
    for sequence in (1, 2, 3):
        dead = await bus.js.get_msg("DEADLETTER", sequence)
        assert dead.headers is not None
        reasons.append(dead.headers[DLQ_REASON])
    assert sum(reason.startswith("invalid message") for reason in reasons) == 2
    assert "rejected: result_id is longer than 255 characters" in reasons
    assert sum(r.success_count for r in await rollups(sessions, "day")) == 22

    async def all_acked() -> bool:
        info = await bus.js.consumer_info("RESULTS", "recorder")
        return info.num_ack_pending == 0 and info.num_pending == 0

    await wait_for(all_acked)


async def test_the_worker_acks_results_of_deleted_monitors(
    worker_ctx: ServiceContext, bus: Bus, sessions: async_sessionmaker[AsyncSession]
) -> None:
    monitor = await make_monitor(sessions)
    worker = asyncio.create_task(run_recorder(worker_ctx))
    try:
        await publish(bus, make_result(424242, base_hour()))
        await publish(bus, make_result(monitor, base_hour()))

        async def settled() -> bool:
            info = await bus.js.consumer_info("RESULTS", "recorder")
            return await count_rows(sessions) == 1 and info.num_ack_pending == 0 and info.num_pending == 0

        await wait_for(settled, timeout=15)
    finally:
        worker_ctx.stop.set()
        await asyncio.wait_for(worker, 15)
    assert (await bus.js.stream_info("DEADLETTER")).state.messages == 0


async def test_the_worker_waits_out_a_database_outage_without_spending_deliveries(
    bus: Bus, db_engine: AsyncEngine, db_url: str, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    monitor = await make_monitor(sessions)
    settings = Settings(database_url=db_url, nats_url=nats_url, bus_max_deliveries=2, bus_ack_wait=2)
    ctx = ServiceContext(name="incident-engine", settings=settings)
    attempts = 0

    async def refuse() -> Any:
        nonlocal attempts
        attempts += 1
        raise ConnectionRefusedError("the database is down")

    down = create_async_engine("postgresql+asyncpg://", async_creator=refuse)
    ctx.attach(engine=down, bus=bus)
    worker = asyncio.create_task(run_recorder(ctx))
    try:
        for n in range(5):
            await publish(bus, make_result(monitor, base_hour() + timedelta(seconds=n)))

        async def held() -> bool:
            info = await bus.js.consumer_info("RESULTS", "recorder")
            return info.num_ack_pending == 5

        await wait_for(held, timeout=10)

        async def retried_past_ack_wait() -> bool:
            return attempts >= 4  # 0.5 + 1 + 2 s of backoff: past ack_wait and the delivery budget

        await wait_for(retried_past_ack_wait, timeout=15)
        ctx.attach(engine=db_engine)  # the database is back

        async def recorded() -> bool:
            return await count_rows(sessions) == 5

        await wait_for(recorded, timeout=20)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(worker, 15)
        await down.dispose()
    info = await bus.js.consumer_info("RESULTS", "recorder")
    assert info.num_redelivered == 0
    assert (await bus.js.stream_info("DEADLETTER")).state.messages == 0


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (OperationalError("INSERT", {}, _Orig("HY000")), True),
        (DBAPIError("INSERT", {}, _Orig("40P01")), True),
        (DBAPIError("INSERT", {}, _Orig("08006")), True),
        (IntegrityError("INSERT", {}, _Orig("23503")), False),
        (DataError("INSERT", {}, _Orig("22001")), False),
        (ValueError("bad"), False),
    ],
)
def test_database_unavailable_tells_outages_from_bad_data(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


# --- partition maintenance ----------------------------------------------------------------------------------


async def test_maintenance_creates_partitions_and_drops_expired_results(
    db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    postgres = db_engine.dialect.name == "postgresql"
    monitor = await make_monitor(sessions)
    now = utcnow()
    await record(
        sessions,
        [
            make_result(monitor, now - timedelta(days=40)),  # the default partition on PostgreSQL
            make_result(monitor, now - timedelta(hours=1)),  # today's partition
            make_result(monitor, now + timedelta(days=12)),
        ],
    )
    later = now + timedelta(days=40)  # 30 days of retention then keep from now + 10 days on
    result = await maintain_partitions(sessions, retention_days=30, now=later)

    assert await count_rows(sessions) == 1
    assert len(await rollups(sessions, "day")) == 3  # rollups stay
    if postgres:
        assert partition_name(later.date() + timedelta(days=7)) in result.created_partitions
        assert partition_name(now.date()) in result.retention.dropped_partitions
        assert result.retention.deleted_rows == 1
    else:
        assert result.created_partitions == []
        assert result.retention.deleted_rows == 2


async def test_the_maintenance_worker_runs_at_start_and_stops_promptly(
    db_engine: AsyncEngine, db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ctx = ServiceContext(name="incident-engine", settings=Settings(database_url=db_url))
    ctx.attach(engine=db_engine)
    monitor = await make_monitor(sessions)
    await record(sessions, [make_result(monitor, utcnow() - timedelta(days=400))])
    worker = asyncio.create_task(run_partition_maintenance(ctx))

    async def expired_dropped() -> bool:
        return await count_rows(sessions) == 0

    await wait_for(expired_dropped, timeout=10)
    ctx.stop.set()
    await asyncio.wait_for(worker, 5)
    if db_engine.dialect.name == "postgresql":
        async with db_engine.connect() as connection:
            names = set(
                (
                    await connection.execute(
                        text("SELECT relname FROM pg_class WHERE relname LIKE 'check_results_p%'")
                    )
                ).scalars()
            )
        # A week ahead of the day the worker ran (today, or yesterday if midnight passed since).
        week_ahead = {partition_name(utcnow().date() + timedelta(days=days)) for days in (6, 7)}
        assert names & week_ahead
