"""The dispatcher: claims due deliveries and sends each in its own task, then records the outcome.

Each (event, channel) is its own unit: a slow or failing receiver holds only its own task, and its retries are
scheduled on its own row (``next_attempt_at``, doubling from ``notify_backoff_base``) while every other
channel's alert goes out at once. Nothing sleeps holding a bus message: the event was acked once its rows
were committed, and the database is the retry schedule.

The guarantee, per (event, channel): the claim is committed before the send and "sent" right after it. A
notifier that dies between the two leaves the row in ``sending``; when its lease lapses another claim sends it
again with the same ``Idempotency-Key`` (webhooks) / dedup key (PagerDuty, Opsgenie, Grafana OnCall). So an
alert is never lost and is sent twice only if the process dies in the window between the receiver accepting
it and the commit of "sent" — at least once, exactly once for receivers that honour the key.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import deliveries
from notifier.content import Notice
from notifier.deliveries import Claimed
from notifier.senders import SendContext, SendError, send
from openstatus_common.db.base import utcnow
from openstatus_common.messages import MonitorAlert
from openstatus_common.notify import scrub, secret_values
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

MAX_BACKOFF_S = 3600.0
LEASE_MARGIN_S = 2.0
SETTLE_RETRIES = 3


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: base, 2x base, 4x base ..."""
    return float(min(MAX_BACKOFF_S, settings.notify_backoff_base * 2 ** max(0, attempts - 1)))


def send_bound(settings: Settings) -> float:
    """The longest one send may take: connect and read timeouts (two-step sends stay within it)."""
    return 2 * settings.notify_timeout + 1


def details_url(settings: Settings, monitor_id: int) -> str:
    return f"{settings.api_url}/v1/monitor/{monitor_id}"


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: SendContext,
        *,
        poll_interval: float = 1.0,
        concurrency: int = 64,
        shutdown_timeout: float | None = None,
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.settings = senders.settings
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.shutdown_timeout = shutdown_timeout or self.settings.shutdown_timeout
        # The lease outlives the longest send, so a live sender is never overtaken by a second claim.
        self.lease = timedelta(seconds=send_bound(self.settings) + LEASE_MARGIN_S)
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    def kick(self) -> None:
        """New work may be due (an event was recorded, a delivery finished): look now, not at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dispatcher.started", lease_s=self.lease.total_seconds())
        try:
            while not stop.is_set():
                self._wake.clear()
                await self._claim_and_start()
                stopping = asyncio.create_task(stop.wait())
                waking = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    {stopping, waking}, timeout=self.poll_interval, return_when="FIRST_COMPLETED"
                )
                stopping.cancel()
                waking.cancel()
        finally:
            await self._finish_inflight()
            log.info("dispatcher.stopped")

    async def _claim_and_start(self) -> None:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return
        try:
            claimed = await deliveries.claim_due(self.sessions, now=utcnow(), lease=self.lease, limit=free)
        except Exception as error:  # the database is away: try again at the next poll
            log.warning("dispatcher.claim_failed", error=repr(error))
            return
        for item in claimed:
            task = asyncio.create_task(self.deliver(item))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.kick()  # a later alert for the same monitor and channel may be waiting on this one

    async def _finish_inflight(self) -> None:
        if not self._inflight:
            return
        _, late = await asyncio.wait(set(self._inflight), timeout=self.shutdown_timeout)
        for task in late:
            # Left in "sending": its lease lapses and another claim sends it (with the same key).
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def deliver(self, item: Claimed) -> None:
        """Send one claimed delivery and record the outcome; never raises (except cancellation)."""
        secrets = secret_values(item.provider, item.config)
        bound_log = log.bind(
            delivery_id=item.id,
            event_id=item.event_id,
            channel_id=item.channel_id,
            provider=item.provider.value,
            attempt=item.attempts,
        )
        if item.resumed:
            bound_log.warning("dispatcher.resuming_lapsed_claim")
        try:
            alert = MonitorAlert.model_validate(item.payload.get("alert"))
        except ValidationError:
            await self._settle_failed(item, "the stored alert is unreadable", permanent=True, log_=bound_log)
            return
        notice = Notice(
            alert=alert,
            key=f"{item.event_id}:{item.channel_id}",
            details_url=details_url(self.settings, alert.monitor.id),
        )
        try:
            await asyncio.wait_for(
                send(self.senders, item.provider, item.config, notice), send_bound(self.settings)
            )
        except SendError as error:
            await self._settle_failed(
                item, scrub(error.message, secrets), permanent=error.permanent, log_=bound_log
            )
            return
        except TimeoutError:
            message = f"no answer within {send_bound(self.settings):g}s"
            await self._settle_failed(item, message, permanent=False, log_=bound_log)
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an unexpected library error: retry, and say what it was
            message = scrub(f"{type(error).__name__}: {error}", secrets)
            await self._settle_failed(item, message, permanent=False, log_=bound_log)
            return
        if await self._settle(item, sent=True):
            bound_log.info("dispatcher.sent")

    async def _settle_failed(
        self, item: Claimed, error: str, *, permanent: bool, log_: structlog.typing.FilteringBoundLogger
    ) -> None:
        final = permanent or item.attempts >= self.settings.notify_max_attempts
        retry_in = None if final else backoff(self.settings, item.attempts)
        if await self._settle(item, sent=False, error=error, retry_in=retry_in):
            if final:
                log_.error("dispatcher.failed", error=error, permanent=permanent)
            else:
                log_.warning("dispatcher.retry_scheduled", error=error, retry_in=retry_in)

    async def _settle(
        self, item: Claimed, *, sent: bool, error: str = "", retry_in: float | None = None
    ) -> bool:
        """Record the outcome, retrying briefly: every failed write widens the at-least-once window."""
        for attempt in range(SETTLE_RETRIES):
            now = utcnow()
            try:
                if sent:
                    ok = await deliveries.mark_sent(self.sessions, item, now=now)
                else:
                    retry_at = None if retry_in is None else now + timedelta(seconds=retry_in)
                    ok = await deliveries.mark_failed(
                        self.sessions, item, error=error, now=now, retry_at=retry_at
                    )
            except Exception as db_error:
                log.warning("dispatcher.settle_failed", delivery_id=item.id, error=repr(db_error))
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if not ok:
                # Our lease lapsed and another claim owns the row now: its outcome stands.
                log.warning("dispatcher.claim_lost", delivery_id=item.id)
            return ok
        return False
