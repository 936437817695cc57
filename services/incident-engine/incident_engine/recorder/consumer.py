"""The recorder worker: results from the RESULTS stream, recorded in batches, one transaction per batch.

A batch is acked only after its transaction commits. A result that fails validation is dead-lettered by the
batch consumer before it reaches ``record_results``, and so is one that validates but can never be stored
(an id too long for its column): the handler rejects the batch, which is then retried one result at a time,
and only that result is rejected. Results of deleted monitors are skipped (see ``service``).

When the database itself is unavailable (down, restarting, locked, or a deadlock victim) every batch would
fail alike, and naking would spend the results' delivery budget until they were dead-lettered during an
ordinary restart. So the handler retries the same batch in place, with backoff, while the batch consumer
keeps the messages in progress; any other error goes back to the batch consumer, which retries the results
one at a time and dead-letters the one that keeps failing after ``bus_max_deliveries``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from incident_engine.recorder.service import record_results, unstorable_reason
from openstatus_common.bus import BatchConsumer, ConsumerSpec, Delivery, Reject, StreamName
from openstatus_common.db.engine import unit_of_work
from openstatus_common.messages import CheckResult
from openstatus_common.service import ServiceContext

log = structlog.get_logger(__name__)

DURABLE = "recorder"
FILTER_SUBJECT = "checks.result.>"
# A batch is one transaction: large enough to amortise it, small enough to keep lock times short.
BATCH_SIZE = 500
# Under light load a result waits at most this long for company before it is written.
MAX_WAIT = 0.2
# Seconds between attempts while the database is unavailable (the last one repeats).
OUTAGE_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)

# PostgreSQL SQLSTATEs that say "try again", not "this data is bad": serialization failure, deadlock,
# too many connections, admin shutdown, crash shutdown, cannot connect now. Class 08 (connection) too.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "53300", "57P01", "57P02", "57P03"})


def database_unavailable(error: BaseException) -> bool:
    """True for errors any batch would hit alike: the database, not the data, is the problem."""
    if isinstance(
        error, OSError | TimeoutError
    ):  # refused, reset, unreachable; ConnectionError is an OSError
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _RETRY_SQLSTATES)


def recorder_consumer(ctx: ServiceContext) -> BatchConsumer[CheckResult]:
    """The recorder's consumer on ``checks.result.>`` (durable ``recorder``), writing through ``ctx``."""
    settings = ctx.settings
    spec = ConsumerSpec(
        stream=StreamName.RESULTS.value,
        durable=DURABLE,
        filter_subject=FILTER_SUBJECT,
        max_deliveries=settings.bus_max_deliveries,
        ack_wait=settings.bus_ack_wait,
    )

    async def record(batch: list[Delivery[CheckResult]]) -> None:
        for delivery in batch:
            if (reason := unstorable_reason(delivery.message)) is not None:
                raise Reject(reason)
        results = [delivery.message for delivery in batch]
        for attempt in itertools.count():
            try:
                async with unit_of_work(ctx.sessions) as session:
                    recorded = await record_results(session, results)
            except Exception as error:
                if ctx.stop.is_set() or not database_unavailable(error):
                    raise
                delay = OUTAGE_BACKOFF[min(attempt, len(OUTAGE_BACKOFF) - 1)]
                log.warning("recorder.database_unavailable", error=repr(error)[:500], retry_in=delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(ctx.stop.wait(), delay)
                continue
            log.debug("recorder.batch_recorded", received=len(batch), recorded=recorded)
            return

    return BatchConsumer(
        ctx.bus,
        spec,
        CheckResult,
        record,
        batch_size=BATCH_SIZE,
        max_wait=MAX_WAIT,
        shutdown_timeout=settings.shutdown_timeout,
    )


async def run_recorder(ctx: ServiceContext) -> None:
    """Worker: record results until the service stops."""
    await recorder_consumer(ctx).run(ctx.stop)
