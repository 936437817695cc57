"""Partition upkeep for ``check_results``: daily partitions ahead of time and retention, hourly.

Both steps are idempotent and serialise on an advisory lock on PostgreSQL, so every incident-engine replica
may run this worker. On SQLite there are no partitions and retention deletes expired rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.partitions import RetentionResult, drop_expired_partitions, ensure_daily_partitions
from openstatus_common.service import ServiceContext

log = structlog.get_logger(__name__)

INTERVAL = 3600.0
# After a failure (database unreachable at start-up, say), try again sooner than the next hour.
RETRY_AFTER = 60.0


@dataclass(frozen=True)
class MaintenanceResult:
    created_partitions: list[str]
    retention: RetentionResult


async def maintain_partitions(
    sessions: async_sessionmaker[AsyncSession], *, retention_days: int, now: datetime | None = None
) -> MaintenanceResult:
    """Create the coming days' partitions, then drop what is older than the retention (two transactions)."""
    async with unit_of_work(sessions) as session:
        created = await ensure_daily_partitions(session, now=now)
    async with unit_of_work(sessions) as session:
        retention = await drop_expired_partitions(session, retention_days=retention_days, now=now)
    return MaintenanceResult(created_partitions=created, retention=retention)


async def run_partition_maintenance(ctx: ServiceContext, *, interval: float = INTERVAL) -> None:
    """Worker: maintain partitions at start-up, then every ``interval`` seconds until the service stops."""
    while not ctx.stop.is_set():
        delay = interval
        try:
            result = await maintain_partitions(
                ctx.sessions, retention_days=ctx.settings.results_retention_days
            )
        except Exception:
            log.exception("partitions.maintenance_failed", retry_in=RETRY_AFTER)
            delay = min(interval, RETRY_AFTER)
        else:
            log.info(
                "partitions.maintained",
                created=result.created_partitions,
                dropped=result.retention.dropped_partitions,
                deleted_rows=result.retention.deleted_rows,
                cutoff=result.retention.cutoff.isoformat(),
            )
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), delay)
