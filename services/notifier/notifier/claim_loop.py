"""The loop every outgoing queue shares: claim due rows, send each in its own task, record the outcome.

The alert dispatcher (``notification_deliveries``) and the subscriber mailer (``subscriber_deliveries``) are
both a ``ClaimLoop``: they differ in what they claim and how they send one item, not in the rules. Those rules
live here, once:

- a claim is a lease that outlives the longest send (``send_bound`` + a margin), so a live sender is never
  overtaken, and a dead one's work is claimed again once the lease lapses;
- each item is its own task: a slow or failing receiver holds only its own row;
- a failure that may pass is retried after ``backoff`` (doubling from ``notify_backoff_base``) until
  ``notify_max_attempts``; a permanent one is recorded as failed at once;
- the outcome is written only if the claim is still ours, retrying the write briefly.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.senders import SendError
from openstatus_common.db.base import utcnow
from openstatus_common.notify import scrub
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


class Claim(Protocol):
    """What the loop needs to know of a claimed item."""

    @property
    def id(self) -> int: ...

    @property
    def attempts(self) -> int: ...  # including this one

    @property
    def resumed(self) -> bool: ...  # an earlier claim lapsed: that sender may have sent it already


ItemT = TypeVar("ItemT", bound=Claim)
BoundLogger = structlog.typing.FilteringBoundLogger


class ClaimLoop(ABC, Generic[ItemT]):
    """Subclasses say what to claim (``claim``), how to send one (``deliver``) and how to record outcomes."""

    name = "claim_loop"  # the prefix of its log events

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        poll_interval: float = 1.0,
        concurrency: int = 64,
        shutdown_timeout: float | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.shutdown_timeout = shutdown_timeout or settings.shutdown_timeout
        # The lease outlives the longest send, so a live sender is never overtaken by a second claim.
        self.lease = timedelta(seconds=send_bound(settings) + LEASE_MARGIN_S)
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    # --- what a subclass provides -------------------------------------------------------------------

    @abstractmethod
    async def claim(self, *, now: datetime, lease: timedelta, limit: int) -> list[ItemT]:
        """Claim up to ``limit`` due items (committed before returning)."""

    @abstractmethod
    async def deliver(self, item: ItemT) -> None:
        """Send one claimed item and record the outcome (usually through ``attempt``); never raises."""

    @abstractmethod
    async def record_sent(self, item: ItemT, *, now: datetime) -> bool:
        """Mark the item sent if the claim is still ours."""

    @abstractmethod
    async def record_failed(
        self, item: ItemT, *, error: str, now: datetime, retry_at: datetime | None
    ) -> bool:
        """Mark the item failed (or due again at ``retry_at``) if the claim is still ours."""

    # --- the loop -----------------------------------------------------------------------------------

    def kick(self) -> None:
        """New work may be due (an event was recorded, a delivery finished): look now, not at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info(f"{self.name}.started", lease_s=self.lease.total_seconds())
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
            log.info(f"{self.name}.stopped")

    async def _claim_and_start(self) -> None:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return
        try:
            claimed = await self.claim(now=utcnow(), lease=self.lease, limit=free)
        except Exception as error:  # the database is away: try again at the next poll
            log.warning(f"{self.name}.claim_failed", error=repr(error))
            return
        for item in claimed:
            task = asyncio.create_task(self.deliver(item))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.kick()  # a later item for the same receiver may be waiting on this one

    async def _finish_inflight(self) -> None:
        if not self._inflight:
            return
        _, late = await asyncio.wait(set(self._inflight), timeout=self.shutdown_timeout)
        for task in late:
            # Left in "sending": its lease lapses and another claim sends it (with the same key).
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- one item -----------------------------------------------------------------------------------

    async def attempt(
        self,
        item: ItemT,
        send: Callable[[], Awaitable[None]],
        *,
        secrets: list[str],
        log_: BoundLogger,
    ) -> None:
        """Run one send within ``send_bound`` and record the outcome; never raises (except cancellation).

        ``secrets`` are masked in the recorded and logged error.
        """
        bound = send_bound(self.settings)
        try:
            await asyncio.wait_for(send(), bound)
        except SendError as error:
            await self.settle_failed(
                item, scrub(error.message, secrets), permanent=error.permanent, log_=log_
            )
            return
        except TimeoutError:
            await self.settle_failed(item, f"no answer within {bound:g}s", permanent=False, log_=log_)
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an unexpected library error: retry, and say what it was
            message = scrub(f"{type(error).__name__}: {error}", secrets)
            await self.settle_failed(item, message, permanent=False, log_=log_)
            return
        if await self.settle(item, sent=True):
            log_.info(f"{self.name}.sent")

    async def settle_failed(self, item: ItemT, error: str, *, permanent: bool, log_: BoundLogger) -> None:
        final = permanent or item.attempts >= self.settings.notify_max_attempts
        retry_in = None if final else backoff(self.settings, item.attempts)
        if await self.settle(item, sent=False, error=error, retry_in=retry_in):
            if final:
                log_.error(f"{self.name}.failed", error=error, permanent=permanent)
            else:
                log_.warning(f"{self.name}.retry_scheduled", error=error, retry_in=retry_in)

    async def settle(
        self, item: ItemT, *, sent: bool, error: str = "", retry_in: float | None = None
    ) -> bool:
        """Record the outcome, retrying briefly: every failed write widens the at-least-once window."""
        return await self.settle_with(
            item,
            lambda now: (
                self.record_sent(item, now=now)
                if sent
                else self.record_failed(
                    item,
                    error=error,
                    now=now,
                    retry_at=None if retry_in is None else now + timedelta(seconds=retry_in),
                )
            ),
        )

    async def settle_with(self, item: ItemT, write: Callable[[datetime], Awaitable[bool]]) -> bool:
        """Run ``write(now)`` (a conditional update of the claimed row), retrying on database errors."""
        for attempt in range(SETTLE_RETRIES):
            try:
                ok = await write(utcnow())
            except Exception as db_error:
                log.warning(f"{self.name}.settle_failed", delivery_id=item.id, error=repr(db_error))
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if not ok:
                # Our lease lapsed and another claim owns the row now: its outcome stands.
                log.warning(f"{self.name}.claim_lost", delivery_id=item.id)
            return ok
        return False
