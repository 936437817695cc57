"""The probe's worker: pull this region's jobs, run them, publish each result, then ack the job.

Probes of one region share one durable consumer, so adding replicas spreads the region's jobs. A job that
waited past its expiry (its next slot is already due) is dropped and counted instead of run late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from openstatus_common.bus import Consumer, ConsumerSpec, Delivery, Reject, StreamName
from openstatus_common.bus.streams import check_job_subject, check_result_subject
from openstatus_common.messages import CheckJob
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from probe.checks.runner import Checkers, execute

log = structlog.get_logger(__name__)


@dataclass
class ProbeCounters:
    checked: int = 0
    stale_dropped: int = 0


def consumer_spec(settings: Settings) -> ConsumerSpec:
    region = settings.region
    return ConsumerSpec(
        stream=StreamName.CHECKS.value,
        durable=f"probe-{region.value}",
        filter_subject=check_job_subject(region),
        max_deliveries=settings.bus_max_deliveries,
        ack_wait=settings.bus_ack_wait,
        concurrency=settings.probe_concurrency,
    )


async def run_probe(ctx: ServiceContext) -> None:
    settings = ctx.settings
    counters = ProbeCounters()
    # One set of checkers (HTTP session, resolvers) per process: each check still opens a fresh
    # connection, but the client machinery is built once.
    checkers = Checkers.from_settings(settings)
    bound = log.bind(region=settings.region.value)

    async def handle(delivery: Delivery[CheckJob]) -> None:
        job = delivery.message
        if job.region is not settings.region:
            raise Reject(f"job for region {job.region.value} reached the {settings.region.value} probe")
        if datetime.now(UTC) > job.expires_at:
            counters.stale_dropped += 1
            bound.warning("probe.stale_job_dropped", job_id=job.job_id, dropped=counters.stale_dropped)
            return
        result = await execute(job, policy=checkers.policy, checkers=checkers)
        await ctx.bus.publish(
            check_result_subject(job.region, job.monitor_id), result, msg_id=result.result_id
        )
        counters.checked += 1

    consumer = Consumer(
        ctx.bus, consumer_spec(settings), CheckJob, handle, shutdown_timeout=settings.shutdown_timeout
    )
    try:
        await consumer.run(ctx.stop)
    finally:
        await checkers.close()
        bound.info("probe.counters", checked=counters.checked, stale_dropped=counters.stale_dropped)
