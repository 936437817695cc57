"""On-demand checks: run a monitor now in all its regions, waiting for the results or not."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import check_job_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import Monitor
from openstatus_common.errors import FailedPrecondition
from openstatus_common.messages import CheckJob, CheckResult
from openstatus_common.monitors import check_target
from openstatus_common.vocab import parse_region

# How long a queued on-demand job stays useful, and the slack added to the monitor's timeout when waiting.
API_JOB_TTL = timedelta(minutes=2)
WAIT_MARGIN_S = 3.0


def _jobs(monitor: Monitor, *, retries: bool) -> list[CheckJob]:
    if not monitor.regions:
        raise FailedPrecondition("the monitor has no regions to run in", field="regions")
    now = utcnow()
    target = check_target(monitor)
    if not retries:
        target = target.model_copy(update={"retry": 0})
    run_id = uuid.uuid4().hex[:12]
    return [
        CheckJob(
            job_id=f"{monitor.id}:{region}:{int(now.timestamp() * 1000)}:api-{run_id}",
            monitor_id=monitor.id,
            workspace_id=monitor.workspace_id,
            region=parse_region(region),
            scheduled_at=now,
            expires_at=now + API_JOB_TTL,
            trigger="api",
            target=target,
        )
        for region in monitor.regions
    ]


async def trigger(bus: Bus, monitor: Monitor) -> list[CheckJob]:
    """Queue one check per region with the monitor's own retries; results arrive like scheduled ones."""
    jobs = _jobs(monitor, retries=True)
    for job in jobs:
        await bus.publish(check_job_subject(job.region), job, msg_id=job.job_id)
    return jobs


async def run(bus: Bus, monitor: Monitor) -> tuple[list[CheckJob], dict[str, CheckResult]]:
    """Run one check per region now (no retries) and wait for each region's result, bounded by the timeout."""
    jobs = _jobs(monitor, retries=False)
    wanted = {job.job_id for job in jobs}
    results: dict[str, CheckResult] = {}
    complete = asyncio.Event()

    async def on_result(msg: object) -> None:
        data = getattr(msg, "data", b"")
        try:
            result = CheckResult.model_validate_json(data)
        except ValueError:
            return
        if result.job_id in wanted:
            results[result.job_id] = result
            if len(results) == len(wanted):
                complete.set()

    # Subscribe before publishing so no result can slip past.
    subscription = await bus.nc.subscribe(f"checks.result.*.{monitor.id}", cb=on_result)
    try:
        for job in jobs:
            await bus.publish(check_job_subject(job.region), job, msg_id=job.job_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(complete.wait(), monitor.timeout_ms / 1000 + WAIT_MARGIN_S)
    finally:
        await subscription.unsubscribe()
    return jobs, results
