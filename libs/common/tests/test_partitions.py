"""Daily partitions and retention of check_results, on real PostgreSQL and SQLite databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import create_engine, session_factory
from openstatus_common.db.models import CheckResult, Monitor, Workspace
from openstatus_common.db.partitions import (
    DEFAULT_PARTITION,
    day_start,
    drop_expired_partitions,
    ensure_daily_partitions,
    is_partition_name,
    list_partitions,
    partition_day,
    partition_name,
    retention_cutoff,
)

NOON = timedelta(hours=12)


async def _make_monitor(sessions: async_sessionmaker[AsyncSession]) -> Monitor:
    async with sessions() as session, session.begin():
        workspace = Workspace(name="Acme", slug="acme")
        session.add(workspace)
        await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id, kind="http", name="API", url="https://example.com", periodicity="1m"
        )
        session.add(monitor)
    return monitor


async def _add_results(
    sessions: async_sessionmaker[AsyncSession], monitor: Monitor, times: dict[str, datetime]
) -> None:
    async with sessions() as session, session.begin():
        for result_id, scheduled_at in times.items():
            session.add(
                CheckResult(
                    id=result_id,
                    scheduled_at=scheduled_at,
                    monitor_id=monitor.id,
                    workspace_id=monitor.workspace_id,
                    region="ams",
                    job_id=f"{monitor.id}:ams:{scheduled_at.isoformat()}",
                    started_at=scheduled_at,
                    outcome="success",
                    latency_ms=42,
                )
            )


async def _result_ids(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return set((await session.execute(select(CheckResult.id))).scalars())


async def _partition_of_each_row(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, tableoid::regclass::text FROM check_results"))
        return {str(result_id): str(partition) for result_id, partition in rows}


# --- names and cut-offs ---------------------------------------------------------------------------------


def test_partition_names_round_trip() -> None:
    assert partition_name(date(2024, 2, 29)) == "check_results_p20240229"
    assert partition_day("check_results_p20240229") == date(2024, 2, 29)
    assert partition_day("check_results_p20241399") is None
    assert partition_day(DEFAULT_PARTITION) is None
    assert is_partition_name("check_results_p20240229")
    assert is_partition_name(DEFAULT_PARTITION)
    assert not is_partition_name("check_results")
    assert not is_partition_name("check_rollups")


def test_retention_cutoff_is_the_start_of_a_utc_day() -> None:
    now = datetime(2024, 3, 31, 10, 15, tzinfo=UTC)
    assert retention_cutoff(now, 30) == datetime(2024, 3, 1, tzinfo=UTC)
    # 00:30 in UTC+2 is still the previous UTC day.
    from datetime import timezone

    late = datetime(2024, 4, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert retention_cutoff(late, 30) == datetime(2024, 3, 1, tzinfo=UTC)


# --- PostgreSQL partitions ------------------------------------------------------------------------------


async def test_rows_land_in_their_daily_partition(pg_url: str) -> None:
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    try:
        monitor = await _make_monitor(sessions)
        today = utcnow().date()
        far = today + timedelta(days=40)
        await _add_results(
            sessions,
            monitor,
            {
                "today": day_start(today) + NOON,
                "tomorrow-midnight": day_start(today + timedelta(days=1)),
                "yesterday-last-microsecond": day_start(today) - timedelta(microseconds=1),
                "far-future": day_start(far),
            },
        )
        placed = await _partition_of_each_row(engine)
    finally:
        await engine.dispose()
    assert placed == {
        "today": partition_name(today),
        "tomorrow-midnight": partition_name(today + timedelta(days=1)),
        "yesterday-last-microsecond": partition_name(today - timedelta(days=1)),
        # No partition for that day yet: the default partition keeps the insert from failing.
        "far-future": DEFAULT_PARTITION,
    }


async def test_ensure_daily_partitions_is_idempotent(pg_url: str) -> None:
    engine = create_engine(pg_url)
    now = utcnow() + timedelta(days=30)
    try:
        async with engine.begin() as connection:
            created = await ensure_daily_partitions(connection, days_ahead=3, now=now)
        async with engine.begin() as connection:
            again = await ensure_daily_partitions(connection, days_ahead=3, now=now)
            partitions = await list_partitions(connection)
    finally:
        await engine.dispose()
    expected = [partition_name(now.date() + timedelta(days=offset)) for offset in range(-1, 4)]
    assert created == expected
    assert again == []
    assert set(expected) <= set(partitions)


async def test_ensure_daily_partitions_accepts_a_session_and_fills_gaps(pg_url: str) -> None:
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    today = utcnow().date()
    try:
        async with sessions() as session, session.begin():
            await session.execute(text(f"DROP TABLE {partition_name(today + timedelta(days=2))}"))
        async with sessions() as session, session.begin():
            created = await ensure_daily_partitions(session)
    finally:
        await engine.dispose()
    assert created == [partition_name(today + timedelta(days=2))]


async def test_ensure_daily_partitions_moves_rows_out_of_the_default_partition(pg_url: str) -> None:
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    later = utcnow().date() + timedelta(days=20)
    try:
        monitor = await _make_monitor(sessions)
        await _add_results(
            sessions, monitor, {"early": day_start(later) + NOON, "other-day": day_start(later) - NOON}
        )
        assert set((await _partition_of_each_row(engine)).values()) == {DEFAULT_PARTITION}

        async with engine.begin() as connection:
            created = await ensure_daily_partitions(connection, days_ahead=0, now=day_start(later) + NOON)
        placed = await _partition_of_each_row(engine)
        # The moved partition still has the parent's indexes and constraints.
        async with engine.connect() as connection:
            indexes = set(
                (
                    await connection.execute(
                        text("SELECT indexname FROM pg_indexes WHERE tablename = :name"),
                        {"name": partition_name(later)},
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    assert created == [partition_name(later - timedelta(days=1)), partition_name(later)]
    assert placed == {"early": partition_name(later), "other-day": partition_name(later - timedelta(days=1))}
    assert len(indexes) == 3  # the primary key, (monitor_id, scheduled_at) and (scheduled_at)


# --- retention on both backends -------------------------------------------------------------------------


async def test_drop_expired_partitions_keeps_recent_results(db_engine: AsyncEngine) -> None:
    sessions = session_factory(db_engine)
    postgres = db_engine.dialect.name == "postgresql"
    now = utcnow()
    today = now.date()
    old_day = today - timedelta(days=45)
    # Partitions for an old stretch of days, as if the table had been running for weeks (none on SQLite).
    async with db_engine.begin() as connection:
        created = await ensure_daily_partitions(connection, days_ahead=2, now=day_start(old_day) + NOON)
    assert len(created) == (4 if postgres else 0)
    monitor = await _make_monitor(sessions)
    await _add_results(
        sessions,
        monitor,
        {
            "45-days-old": day_start(old_day) + NOON,
            "31-days-old": day_start(today - timedelta(days=31)) + NOON,  # in the default partition on PG
            "30-days-old": day_start(today - timedelta(days=30)) + NOON,
            "yesterday": now - timedelta(days=1),
            "now": now,
        },
    )

    async with sessions() as session, session.begin():
        result = await drop_expired_partitions(session, retention_days=30, now=now)
    async with sessions() as session, session.begin():
        again = await drop_expired_partitions(session, retention_days=30, now=now)

    assert result.cutoff == day_start(today - timedelta(days=30))
    assert await _result_ids(sessions) == {"30-days-old", "yesterday", "now"}
    assert again.dropped_partitions == []
    assert again.deleted_rows == 0
    if postgres:
        dropped = [partition_name(old_day + timedelta(days=offset)) for offset in range(-1, 3)]
        assert result.dropped_partitions == dropped
        assert result.deleted_rows == 1  # "31-days-old", from the default partition
        async with db_engine.connect() as connection:
            remaining = await list_partitions(connection)
        assert not set(dropped) & set(remaining)
        assert partition_name(today) in remaining
    else:
        assert result.dropped_partitions == []
        assert result.deleted_rows == 2
        async with db_engine.connect() as connection:
            assert await list_partitions(connection) == []


async def test_ensure_daily_partitions_refuses_a_negative_horizon(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.begin() as connection:
            with pytest.raises(ValueError, match="days_ahead"):
                await ensure_daily_partitions(connection, days_ahead=-1)
    finally:
        await engine.dispose()
