"""Daily partitions and retention for ``check_results``.

On PostgreSQL ``check_results`` is ``PARTITION BY RANGE (scheduled_at)``: one partition per UTC day named
``check_results_pYYYYMMDD``, plus ``check_results_default`` that catches rows no daily partition covers
(a result for a day whose partition was not created in time). Retention drops whole days, which is cheap
and leaves no bloat. On SQLite the table is ordinary: partition creation is a no-op, retention deletes rows.

Both functions run in the caller's transaction and never commit: the caller owns the unit of work. Both are
idempotent, and on PostgreSQL they serialise on an advisory lock so concurrent callers do not race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import column, delete, table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from openstatus_common.db.base import UTCDateTime, utcnow

PARENT_TABLE = "check_results"
DEFAULT_PARTITION = "check_results_default"
_DAILY_RE = re.compile(r"^check_results_p(\d{8})$")
# pg_advisory_xact_lock key shared by every partition-maintenance caller ("oscr" in ASCII).
_LOCK_KEY = 0x6F736372

Database = AsyncSession | AsyncConnection

_COUNT_IN_DEFAULT = text(
    "SELECT count(*) FROM check_results_default WHERE scheduled_at >= :low AND scheduled_at < :high"
)
# Filled in with a name built by partition_name(), never with outside input.
_MOVE_FROM_DEFAULT = (
    "WITH moved AS (DELETE FROM check_results_default WHERE scheduled_at >= :low AND scheduled_at < :high "
    'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
)

_check_results = table(PARENT_TABLE, column("scheduled_at", UTCDateTime()))


@dataclass(frozen=True)
class RetentionResult:
    """What ``drop_expired_partitions`` removed."""

    cutoff: datetime
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_rows: int = 0


def partition_name(day: date) -> str:
    """``check_results_pYYYYMMDD``: the partition holding results scheduled on ``day`` (UTC)."""
    return f"{PARENT_TABLE}_p{day:%Y%m%d}"


def partition_day(name: str) -> date | None:
    """The day a daily partition covers, or None when ``name`` is not a daily partition."""
    match = _DAILY_RE.match(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


def is_partition_name(name: str) -> bool:
    """True for ``check_results`` partitions (daily or default), which the ORM metadata does not describe."""
    return name == DEFAULT_PARTITION or _DAILY_RE.match(name) is not None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Start of the UTC day ``retention_days`` before ``now``: rows scheduled before it are expired.

    Aligned to a day so both backends keep exactly the same rows.
    """
    return day_start((now.astimezone(UTC) - timedelta(days=retention_days)).date())


def dialect_name(db: Database) -> str:
    if isinstance(db, AsyncSession):
        return db.get_bind().dialect.name
    return db.dialect.name


async def list_partitions(db: Database) -> list[str]:
    """Names of the partitions attached to ``check_results``, sorted; empty on SQLite."""
    if dialect_name(db) != "postgresql":
        return []
    result = await db.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent) ORDER BY c.relname"
        ),
        {"parent": PARENT_TABLE},
    )
    return [str(name) for name in result.scalars()]


async def ensure_daily_partitions(
    db: Database, *, days_ahead: int = 7, now: datetime | None = None
) -> list[str]:
    """Create the daily partitions for yesterday through ``days_ahead`` days from now (UTC).

    Returns the names created (none when they all exist, and always none on SQLite). Rows that already sit in
    the default partition for a day being created are moved into the new partition.
    """
    if dialect_name(db) != "postgresql":
        return []
    if days_ahead < 0:
        raise ValueError("days_ahead must be >= 0")
    await _lock(db)
    await _require_partitioned(db)
    existing = set(await list_partitions(db))
    today = (now or utcnow()).astimezone(UTC).date()
    created: list[str] = []
    for offset in range(-1, days_ahead + 1):
        day = today + timedelta(days=offset)
        name = partition_name(day)
        if name not in existing:
            await _create_partition(db, day, has_default=DEFAULT_PARTITION in existing)
            created.append(name)
    return created


async def drop_expired_partitions(
    db: Database, *, retention_days: int, now: datetime | None = None
) -> RetentionResult:
    """Remove check results scheduled before ``retention_cutoff(now, retention_days)``.

    PostgreSQL: drop every daily partition that ends at or before the cutoff, then delete expired rows left
    elsewhere (the default partition). SQLite: delete the expired rows.
    """
    if retention_days < 1:
        raise ValueError("retention_days must be >= 1")
    cutoff = retention_cutoff(now or utcnow(), retention_days)
    dropped: list[str] = []
    if dialect_name(db) == "postgresql":
        await _lock(db)
        for name in await list_partitions(db):
            day = partition_day(name)
            if day is not None and day_start(day + timedelta(days=1)) <= cutoff:
                await db.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
                dropped.append(name)
    result: Any = await db.execute(delete(_check_results).where(_check_results.c.scheduled_at < cutoff))
    return RetentionResult(cutoff=cutoff, dropped_partitions=dropped, deleted_rows=int(result.rowcount or 0))


async def _lock(db: Database) -> None:
    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


async def _require_partitioned(db: Database) -> None:
    result = await db.execute(
        text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = to_regclass(:parent)"),
        {"parent": PARENT_TABLE},
    )
    if not result.scalar_one():
        raise RuntimeError(f"{PARENT_TABLE} is not a partitioned table: run openstatus-migrate first")


async def _create_partition(db: Database, day: date, *, has_default: bool) -> None:
    name = partition_name(day)
    low, high = day_start(day), day_start(day + timedelta(days=1))
    # DDL takes no bind parameters; the name and bounds are rendered from a date, never from outside input.
    bounds = f"FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
    stranded = 0
    if has_default:
        result = await db.execute(_COUNT_IN_DEFAULT, {"low": low, "high": high})
        stranded = int(result.scalar_one())
    if not stranded:
        await db.execute(
            text(f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF {PARENT_TABLE} FOR VALUES {bounds}')
        )
        return
    # Creating the partition directly would fail: the default partition holds rows that belong to it.
    # Build it detached, move the rows over, then attach it (which re-checks the default partition).
    await db.execute(
        text(f'CREATE TABLE "{name}" (LIKE {PARENT_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    await db.execute(text(_MOVE_FROM_DEFAULT.format(name=name)), {"low": low, "high": high})
    await db.execute(text(f'ALTER TABLE {PARENT_TABLE} ATTACH PARTITION "{name}" FOR VALUES {bounds}'))
