"""Reading recorded check results: summaries, latest status per region, and the raw results list.

Summaries and latest status read only ``check_rollups``, never the raw, partitioned ``check_results``:

- ``monitor_summary`` merges the HOURLY rollups of the range. The range is widened to whole UTC hours: the
  hour holding ``since`` counts in full, and so does the hour holding ``until``. A "1d" summary therefore
  covers between 24 and 25 hours, never less than asked. (Trimming the first hour exactly would mean reading
  raw rows from a day ago; the current hour needs no raw rows at all, because the recorder updates its rollup
  in the same transaction as the raw insert.)
- ``latest_status`` reads, per region, the newest DAILY rollup row, which keeps the newest result of its day:
  one small index range per monitor however large the results table is, and still there after the raw
  rows have expired.

``list_results`` pages through raw rows newest first, on the ``(monitor_id, scheduled_at)`` index.

Callers check that the monitor belongs to the caller's workspace; these functions only take its id. Region
filters accept any spelling ``vocab.parse_region`` knows and raise ``InvalidArgument`` for others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from openstatus_common.db.models import CheckResult, CheckRollup
from openstatus_common.errors import InvalidArgument
from openstatus_common.rules.latency import LatencyHistogram, merge_into, parse_histogram, percentiles
from openstatus_common.vocab.regions import parse_region

SUMMARY_PERCENTILES = (50, 75, 90, 95, 99)
SUMMARY_RANGES: dict[str, timedelta] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
}


@dataclass(frozen=True, slots=True)
class MonitorSummary:
    """Counts by outcome and nearest-rank latency percentiles in whole ms (None without data)."""

    total_successful: int
    total_degraded: int
    total_failed: int
    p50: int | None
    p75: int | None
    p90: int | None
    p95: int | None
    p99: int | None
    last_ping_at: datetime | None


@dataclass(frozen=True, slots=True)
class RegionStatus:
    """The newest result of one region (``region`` is the short code, e.g. ``ams``)."""

    region: str
    outcome: str
    scheduled_at: datetime
    latency_ms: int | None
    status_code: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One recorded check result."""

    id: str
    monitor_id: int
    workspace_id: int
    region: str
    job_id: str
    trigger: str
    scheduled_at: datetime
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    latency_ms: int
    status_code: int | None
    error: str | None
    attempts: int
    # {"dns": ms, "connect": ms, "tls": ms, "ttfb": ms, "transfer": ms}, phases that happened only
    timing: dict[str, float] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    dns_records: dict[str, list[str]] = field(default_factory=dict)
    certificate_expires_at: datetime | None = None


def summary_window(range_name: str, *, now: datetime) -> tuple[datetime, datetime]:
    """``(since, until)`` for a summary range name (``1d``, ``7d``, ``14d``) ending at ``now``."""
    try:
        length = SUMMARY_RANGES[range_name]
    except KeyError:
        raise InvalidArgument(
            f"unknown range {range_name!r}; expected one of: {', '.join(SUMMARY_RANGES)}", field="range"
        ) from None
    return now - length, now


async def monitor_summary(
    session: AsyncSession,
    *,
    monitor_id: int,
    since: datetime,
    until: datetime,
    regions: Sequence[str] | None = None,
) -> MonitorSummary:
    """Totals and percentiles over ``[since, until)`` widened to whole hours, from hourly rollups.

    ``regions`` None or empty means every region.
    """
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidArgument("since and until must carry a timezone", field="since")
    if until <= since:
        raise InvalidArgument("until must be after since", field="until")
    rollups = CheckRollup
    conditions = [
        rollups.monitor_id == monitor_id,
        rollups.granularity == "hour",
        rollups.bucket_start >= _hour_floor(since),
        rollups.bucket_start < until,
    ]
    codes = _region_codes(regions)
    if codes:
        conditions.append(rollups.region.in_(codes))
    rows = await session.execute(
        select(
            rollups.success_count,
            rollups.degraded_count,
            rollups.error_count,
            rollups.latency_histogram,
            rollups.last_scheduled_at,
        ).where(*conditions)
    )
    successful = degraded = failed = 0
    histogram: LatencyHistogram = {}
    last_ping_at: datetime | None = None
    for success_count, degraded_count, error_count, stored_histogram, last_at in rows:
        successful += success_count
        degraded += degraded_count
        failed += error_count
        merge_into(histogram, parse_histogram(stored_histogram))
        if last_at is not None and (last_ping_at is None or last_at > last_ping_at):
            last_ping_at = last_at
    p50, p75, p90, p95, p99 = percentiles(histogram, SUMMARY_PERCENTILES)
    return MonitorSummary(
        total_successful=successful,
        total_degraded=degraded,
        total_failed=failed,
        p50=p50,
        p75=p75,
        p90=p90,
        p95=p95,
        p99=p99,
        last_ping_at=last_ping_at,
    )


async def latest_status(session: AsyncSession, *, monitor_id: int) -> list[RegionStatus]:
    """The newest result per region, sorted by region; empty when nothing was recorded."""
    daily = (CheckRollup.monitor_id == monitor_id, CheckRollup.granularity == "day")
    newest_day = (
        select(CheckRollup.region, func.max(CheckRollup.bucket_start).label("bucket_start"))
        .where(*daily)
        .group_by(CheckRollup.region)
        .subquery()
    )
    rows = await session.execute(
        select(
            CheckRollup.region,
            CheckRollup.last_outcome,
            CheckRollup.last_scheduled_at,
            CheckRollup.last_latency_ms,
            CheckRollup.last_status_code,
            CheckRollup.last_error,
        )
        .join(
            newest_day,
            (CheckRollup.region == newest_day.c.region)
            & (CheckRollup.bucket_start == newest_day.c.bucket_start),
        )
        .where(*daily)
        .order_by(CheckRollup.region)
    )
    return [
        RegionStatus(
            region=region,
            outcome=outcome,
            scheduled_at=scheduled_at,
            latency_ms=latency_ms,
            status_code=status_code,
            error=error,
        )
        for region, outcome, scheduled_at, latency_ms, status_code, error in rows
        if outcome is not None and scheduled_at is not None
    ]


async def list_results(
    session: AsyncSession,
    *,
    monitor_id: int,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ResultRow], int]:
    """One page of results scheduled in ``[since, until)``, newest first, and how many match in total."""
    if limit < 1:
        raise InvalidArgument("limit must be at least 1", field="limit")
    if offset < 0:
        raise InvalidArgument("offset must not be negative", field="offset")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidArgument(f"{name} must carry a timezone", field=name)
    conditions: list[ColumnElement[bool]] = [CheckResult.monitor_id == monitor_id]
    if region is not None:
        conditions.append(CheckResult.region == _region_codes([region])[0])
    if since is not None:
        conditions.append(CheckResult.scheduled_at >= since)
    if until is not None:
        conditions.append(CheckResult.scheduled_at < until)
    total = (
        await session.execute(select(func.count()).select_from(CheckResult).where(*conditions))
    ).scalar_one()
    if total <= offset:
        return [], int(total)
    page = await session.execute(
        select(CheckResult)
        .where(*conditions)
        .order_by(CheckResult.scheduled_at.desc(), CheckResult.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_result_row(row) for row in page.scalars()], int(total)


def _result_row(row: CheckResult) -> ResultRow:
    details: dict[str, Any] = row.details or {}
    return ResultRow(
        id=row.id,
        monitor_id=row.monitor_id,
        workspace_id=row.workspace_id,
        region=row.region,
        job_id=row.job_id,
        trigger=row.trigger,
        scheduled_at=row.scheduled_at,
        started_at=row.started_at,
        finished_at=_parse_time(details.get("finished_at")),
        outcome=row.outcome,
        latency_ms=row.latency_ms,
        status_code=row.status_code,
        error=row.error,
        attempts=row.attempts,
        timing=dict(row.timing or {}),
        response_headers=dict(details.get("response_headers") or {}),
        dns_records=dict(details.get("dns_records") or {}),
        certificate_expires_at=_parse_time(details.get("certificate_expires_at")),
    )


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment`` (offsets like +05:30 do not fall on UTC hours)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _region_codes(regions: Sequence[str] | None) -> list[str]:
    codes: list[str] = []
    for value in regions or ():
        try:
            code = parse_region(value).value
        except ValueError as error:
            raise InvalidArgument(str(error), field="region") from None
        if code not in codes:
            codes.append(code)
    return codes
