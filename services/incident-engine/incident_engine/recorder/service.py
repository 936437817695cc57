"""Recording check results: raw rows and their hourly and daily rollups, in the caller's transaction.

``record_results`` is idempotent on the result id: the raw insert is ``ON CONFLICT DO NOTHING ... RETURNING``,
and only the rows it actually inserted are added to the rollups, so a redelivered result changes nothing.

Each rollup row is written with one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE``) that adds the
batch's counts and latency sum, merges the sparse histograms key by key in SQL, and keeps the newer of the
stored and the batch's newest result. It is safe with several recorder replicas on PostgreSQL: the upsert
locks the row it updates, and rows are written in primary-key order, so concurrent batches queue on a row
instead of deadlocking, and none of their counts is lost. (SQLite has a single writer.)

Results for a monitor that does not exist (hard-deleted while its checks were in flight, or a bogus id) are
skipped and logged, not dead-lettered: it is an ordinary race after a delete, and the rows could never be
stored anyway (the foreign key). The monitor's workspace is taken from the database, not from the message.
Latencies are stored in whole milliseconds (``rules.latency.round_ms``), clamped to the column's range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import Table, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from openstatus_common.db.models import CheckResult as CheckResultRow
from openstatus_common.db.models import CheckRollup, Monitor
from openstatus_common.messages import CheckResult
from openstatus_common.rules.latency import LatencyHistogram, add_latency, round_ms
from openstatus_common.vocab import CheckOutcome

log = structlog.get_logger(__name__)

INT32_MAX = 2**31 - 1
ID_MAX_LENGTH = 255  # check_results.id and job_id are VARCHAR(255)
# Rows per statement: well under the bind-parameter limits of both backends.
_CHUNK = 400

_results: Table = CheckResultRow.__table__  # type: ignore[assignment]
_rollups: Table = CheckRollup.__table__  # type: ignore[assignment]
_ROLLUP_KEY = ("monitor_id", "region", "granularity", "bucket_start")

RollupKey = tuple[int, str, str, datetime]
T = TypeVar("T")


@dataclass
class _RollupDelta:
    """What one batch adds to one rollup row."""

    counts: dict[CheckOutcome, int] = field(default_factory=dict)
    latency_sum_ms: int = 0
    histogram: LatencyHistogram = field(default_factory=dict)
    newest: CheckResult | None = None

    def add(self, result: CheckResult, latency_ms: int) -> None:
        self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
        self.latency_sum_ms += latency_ms
        add_latency(self.histogram, latency_ms)
        if self.newest is None or _order(result) > _order(self.newest):
            self.newest = result


async def record_results(session: AsyncSession, results: Sequence[CheckResult]) -> int:
    """Store results not stored before and count them in the hourly and daily rollups.

    Returns how many were newly recorded; duplicates (by result id, within the batch or already stored) and
    results for unknown monitors are left out. Runs in the caller's transaction and never commits. Raises
    ValueError, before writing anything, for a result that can never be stored (see ``unstorable_reason``).
    """
    for result in results:
        if (reason := unstorable_reason(result)) is not None:
            raise ValueError(f"result {result.result_id[:100]!r} cannot be stored: {reason}")
    unique = list({result.result_id: result for result in reversed(results)}.values())
    if not unique:
        return 0
    connection = await session.connection()
    workspaces = await _monitor_workspaces(connection, {result.monitor_id for result in unique})
    known = [result for result in unique if result.monitor_id in workspaces]
    if len(known) < len(unique):
        unknown = sorted({result.monitor_id for result in unique} - set(workspaces))
        log.warning(
            "recorder.unknown_monitor_skipped",
            monitor_ids=unknown[:20],
            results=len(unique) - len(known),
        )
    if not known:
        return 0
    inserted = await _insert_new(
        connection, [_row(result, workspaces[result.monitor_id]) for result in known]
    )
    new = [result for result in known if result.result_id in inserted]
    if new:
        await _apply_rollups(connection, _rollup_deltas(new))
    return len(new)


def unstorable_reason(result: CheckResult) -> str | None:
    """Why a result that passed message validation can still never be stored, or None when it can."""
    for name, value in (("result_id", result.result_id), ("job_id", result.job_id)):
        if not value:
            return f"{name} is empty"
        if len(value) > ID_MAX_LENGTH:
            return f"{name} is longer than {ID_MAX_LENGTH} characters"
        if "\x00" in value:
            return f"{name} contains a NUL character"
    return None


def stored_latency_ms(latency_ms: float) -> int:
    """The whole milliseconds stored for a result (the raw column and the histogram agree on it)."""
    return min(round_ms(latency_ms), INT32_MAX)


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


# --- raw results ------------------------------------------------------------------------------------------


async def _monitor_workspaces(connection: AsyncConnection, monitor_ids: set[int]) -> dict[int, int]:
    """monitor id -> workspace id for the monitors that exist (soft-deleted ones included)."""
    # An id outside the column's range cannot exist, and would make PostgreSQL refuse the whole query.
    candidates = sorted(i for i in monitor_ids if -INT32_MAX - 1 <= i <= INT32_MAX)
    found: dict[int, int] = {}
    for chunk in _chunks(candidates):
        rows = await connection.execute(select(Monitor.id, Monitor.workspace_id).where(Monitor.id.in_(chunk)))
        found.update({monitor_id: workspace_id for monitor_id, workspace_id in rows})
    return found


def _row(result: CheckResult, workspace_id: int) -> dict[str, Any]:
    if workspace_id != result.workspace_id:
        log.warning(
            "recorder.workspace_mismatch",
            result_id=result.result_id,
            monitor_id=result.monitor_id,
            claimed=result.workspace_id,
            actual=workspace_id,
        )
    timing = {
        phase: value
        for phase, value in (
            ("dns", result.timing.dns_ms),
            ("connect", result.timing.connect_ms),
            ("tls", result.timing.tls_ms),
            ("ttfb", result.timing.ttfb_ms),
            ("transfer", result.timing.transfer_ms),
        )
        if value is not None and math.isfinite(value)  # JSON (and so jsonb) has no NaN or infinity
    }
    details: dict[str, Any] = {"finished_at": result.finished_at.isoformat()}
    if result.response_headers:
        details["response_headers"] = {_nul_free(k): _nul_free(v) for k, v in result.response_headers.items()}
    if result.dns_records:
        details["dns_records"] = {
            _nul_free(kind): [_nul_free(record) for record in records]
            for kind, records in result.dns_records.items()
        }
    if result.certificate_expires_at is not None:
        details["certificate_expires_at"] = result.certificate_expires_at.isoformat()
    return {
        "id": result.result_id,
        "scheduled_at": result.scheduled_at,
        "monitor_id": result.monitor_id,
        "workspace_id": workspace_id,
        "region": result.region.value,
        "job_id": result.job_id,
        "started_at": result.started_at,
        "outcome": result.outcome.value,
        "latency_ms": stored_latency_ms(result.latency_ms),
        "timing": timing or None,
        "status_code": result.status_code,
        "error": _text(result.error),
        "attempts": result.attempts,
        "trigger": result.trigger,
        "details": details,
    }


async def _insert_new(connection: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows that are not there yet; return the ids of those inserted."""
    # Primary-key order, so concurrent recorders inserting the same results wait instead of deadlocking.
    rows.sort(key=lambda row: (row["id"], row["scheduled_at"]))
    statement = (
        _dialect_insert(connection, _results)
        .on_conflict_do_nothing(index_elements=["id", "scheduled_at"])
        .returning(_results.c.id)
    )
    inserted: set[str] = set()
    for chunk in _chunks(rows):
        result = await connection.execute(statement, chunk)
        inserted.update(result.scalars())
    return inserted


# --- rollups ----------------------------------------------------------------------------------------------


def _rollup_deltas(results: Iterable[CheckResult]) -> dict[RollupKey, _RollupDelta]:
    deltas: dict[RollupKey, _RollupDelta] = {}
    for result in results:
        latency = stored_latency_ms(result.latency_ms)
        region = result.region.value
        for granularity, start in (("hour", hour_start), ("day", day_start)):
            key = (result.monitor_id, region, granularity, start(result.scheduled_at))
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = _RollupDelta()
            delta.add(result, latency)
    return deltas


# Merging two sparse histograms, {bucket: count}, in SQL: the union of their keys with counts summed.
_MERGE_HISTOGRAMS = {
    "postgresql": (
        "(SELECT coalesce(jsonb_object_agg(key, total), '{{}}'::jsonb) FROM ("
        "SELECT key, sum(value::bigint) AS total FROM ("
        "SELECT * FROM jsonb_each_text({old}) UNION ALL SELECT * FROM jsonb_each_text({new})"
        ") AS parts GROUP BY key) AS merged)"
    ),
    "sqlite": (
        "(SELECT coalesce(json_group_object(key, total), '{{}}') FROM ("
        "SELECT key, sum(value) AS total FROM ("
        "SELECT key, value FROM json_each({old}) UNION ALL SELECT key, value FROM json_each({new})"
        ") GROUP BY key))"
    ),
}
_LAST_COLUMNS = ("last_scheduled_at", "last_outcome", "last_latency_ms", "last_status_code", "last_error")


async def _apply_rollups(connection: AsyncConnection, deltas: dict[RollupKey, _RollupDelta]) -> None:
    """Add the deltas to their rollup rows in one atomic upsert per chunk.

    ``INSERT ... ON CONFLICT DO UPDATE`` inserts a missing row with the delta as it is, or locks the existing
    row and adds to it: counts and latency sums add up, histograms merge key by key, and the newest result
    wins. Rows are written in primary-key order, so concurrent recorders queue on a row instead of
    deadlocking, and no update is ever lost.
    """
    table = _rollups.name
    merge = _MERGE_HISTOGRAMS[connection.dialect.name].format(
        old=f"{table}.latency_histogram", new="excluded.latency_histogram"
    )
    newer = f"({table}.last_scheduled_at IS NULL OR excluded.last_scheduled_at > {table}.last_scheduled_at)"
    insert = _dialect_insert(connection, _rollups)
    statement = insert.on_conflict_do_update(
        index_elements=list(_ROLLUP_KEY),
        set_={
            **{
                name: _rollups.c[name] + insert.excluded[name]
                for name in ("success_count", "degraded_count", "error_count", "latency_sum_ms")
            },
            "latency_histogram": literal_column(merge),
            **{
                name: literal_column(f"CASE WHEN {newer} THEN excluded.{name} ELSE {table}.{name} END")
                for name in _LAST_COLUMNS
            },
        },
    )
    rows = [_rollup_row(key, deltas[key]) for key in sorted(deltas)]
    for chunk in _chunks(rows):
        await connection.execute(statement, chunk)


def _rollup_row(key: RollupKey, delta: _RollupDelta) -> dict[str, Any]:
    newest = delta.newest
    assert newest is not None  # a delta exists because a result was added to it
    return {
        **dict(zip(_ROLLUP_KEY, key, strict=True)),
        "success_count": delta.counts.get(CheckOutcome.SUCCESS, 0),
        "degraded_count": delta.counts.get(CheckOutcome.DEGRADED, 0),
        "error_count": delta.counts.get(CheckOutcome.ERROR, 0),
        "latency_sum_ms": delta.latency_sum_ms,
        "latency_histogram": delta.histogram,
        "last_scheduled_at": newest.scheduled_at,
        "last_outcome": newest.outcome.value,
        "last_latency_ms": stored_latency_ms(newest.latency_ms),
        "last_status_code": newest.status_code,
        "last_error": _text(newest.error),
    }


# --- helpers ----------------------------------------------------------------------------------------------


def _text(value: str | None) -> str | None:
    return _nul_free(value) if value else value


def _nul_free(value: str) -> str:
    """PostgreSQL text and jsonb cannot hold NUL, and what a probe quotes from a server might."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _order(result: CheckResult) -> tuple[datetime, str]:
    return result.scheduled_at, result.result_id


def _dialect_insert(connection: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The backend's INSERT, the one with ``on_conflict_do_nothing`` and ``on_conflict_do_update``."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database {connection.dialect.name}")


def _chunks(items: list[T]) -> Iterable[list[T]]:
    for offset in range(0, len(items), _CHUNK):
        yield items[offset : offset + _CHUNK]
