"""The scheduler service's worker: watch monitors, reconcile, publish jobs."""

from __future__ import annotations

import asyncio

import structlog

from openstatus_common.bus.streams import check_job_subject
from openstatus_common.messages import CheckJob
from openstatus_common.service import ServiceContext
from scheduler.engine import Scheduler
from scheduler.sync import open_bucket, reconcile, reconcile_forever, watch_bucket

log = structlog.get_logger(__name__)


async def run_scheduler(ctx: ServiceContext) -> None:
    async def publish(job: CheckJob) -> None:
        await ctx.bus.publish(check_job_subject(job.region), job, msg_id=job.job_id)

    scheduler = Scheduler(publish=publish)
    kv = await open_bucket(ctx)
    await reconcile(ctx, kv)
    tasks = [
        asyncio.create_task(watch_bucket(kv, scheduler, ctx.stop)),
        asyncio.create_task(reconcile_forever(ctx, kv)),
        asyncio.create_task(scheduler.run(ctx.stop)),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("scheduler.counters", **vars(scheduler.counters))
