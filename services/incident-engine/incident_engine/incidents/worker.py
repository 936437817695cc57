"""The incident engine's worker: each check result from RESULTS, one transaction, events after the commit.

Per result: ``apply_result`` in a unit of work (state, status, incident and staged events commit together),
then the monitor's staged events are published (``msg_id`` = event id), then the result is acked. Results
of one monitor are handled one at a time, in delivery order, in this process; across replicas the
monitor's row lock serializes them. If publishing fails the result is redelivered and, being stale by
then, only publishes what is still staged; a sweep publishes leftovers every few seconds. So each event is
published at least once after its decision commits, never before, and JetStream stores it once (within its
10-minute duplicate window).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog

from incident_engine.incidents.engine import apply_result
from openstatus_common.bus import Consumer, ConsumerSpec, Delivery, StreamName
from openstatus_common.db.engine import unit_of_work
from openstatus_common.messages import CheckResult
from openstatus_common.outbox import publish_pending, sweep
from openstatus_common.service import ServiceContext

log = structlog.get_logger(__name__)

DURABLE = "incident-engine"
FILTER_SUBJECT = "checks.result.>"
# Results of different monitors in flight at once (each holds a database connection while it decides).
CONCURRENCY = 16
# Staged events older than this are the sweep's: the handler that staged them has had its chance.
SWEEP_AFTER = timedelta(seconds=5)
SWEEP_EVERY_S = 5.0


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it. Waiters are served in order."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


def incidents_consumer(ctx: ServiceContext) -> Consumer[CheckResult]:
    """The engine's consumer on ``checks.result.>`` (durable ``incident-engine``), working through ``ctx``."""
    settings = ctx.settings
    spec = ConsumerSpec(
        stream=StreamName.RESULTS.value,
        durable=DURABLE,
        filter_subject=FILTER_SUBJECT,
        max_deliveries=settings.bus_max_deliveries,
        ack_wait=settings.bus_ack_wait,
        concurrency=CONCURRENCY,
    )
    locks = KeyedLocks()

    async def handle(delivery: Delivery[CheckResult]) -> None:
        result = delivery.message
        async with locks.hold(result.monitor_id):
            async with unit_of_work(ctx.sessions) as session:
                applied = await apply_result(session, result)
            if applied.events or applied.stale:
                # Stale means redelivered: its decision may have committed without its events going out.
                await publish_pending(ctx.bus, ctx.sessions, monitor_id=result.monitor_id)

    return Consumer(ctx.bus, spec, CheckResult, handle, shutdown_timeout=settings.shutdown_timeout)


async def sweep_outbox(ctx: ServiceContext) -> None:
    """Publish events left staged by a failed publish or a crash, every few seconds until the service stops."""
    while not ctx.stop.is_set():
        try:
            await sweep(ctx.bus, ctx.sessions, older_than=SWEEP_AFTER)
        except Exception as error:  # NATS or the database is away: try again next round
            log.warning("incidents.sweep_failed", error=repr(error))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), SWEEP_EVERY_S)


async def run_incident_engine(ctx: ServiceContext) -> None:
    """Worker: decide on incidents from results until the service stops."""
    sweeper = asyncio.create_task(sweep_outbox(ctx), name="incidents-outbox-sweep")
    try:
        await incidents_consumer(ctx).run(ctx.stop)
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
