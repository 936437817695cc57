"""The mailer: claims due subscriber mail and sends each through the deployment's SMTP server.

The same loop as the alert dispatcher (``notifier.claim_loop``: leases, per-row retries with backoff up to
``notify_max_attempts``, each send bounded by ``notify_timeout``) and the same SMTP code as email channels
(``senders.email.send_email``). A subscriber who left since the mail was queued (unsubscribed, or confirmed
or gone before a confirmation went out) is skipped, not mailed. Logs name the row, the key and the
subscriber id, never the address, the token or the body.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.claim_loop import ClaimLoop
from notifier.senders.email import send_email
from notifier.subscribers import queue
from notifier.subscribers.content import PAGE_MAIL, ConfirmMail, build_message
from notifier.subscribers.queue import ClaimedMail
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)


class Mailer(ClaimLoop[ClaimedMail]):
    name = "mailer"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        poll_interval: float = 1.0,
        concurrency: int = 16,
        shutdown_timeout: float | None = None,
    ) -> None:
        # Fewer at once than alerts: one SMTP session per mail, and a page may have many subscribers.
        super().__init__(
            sessions,
            settings,
            poll_interval=poll_interval,
            concurrency=concurrency,
            shutdown_timeout=shutdown_timeout,
        )

    async def claim(self, *, now: datetime, lease: timedelta, limit: int) -> list[ClaimedMail]:
        return await queue.claim_due(self.sessions, now=now, lease=lease, limit=limit)

    async def record_sent(self, item: ClaimedMail, *, now: datetime) -> bool:
        return await queue.mark_sent(self.sessions, item, now=now)

    async def record_failed(
        self, item: ClaimedMail, *, error: str, now: datetime, retry_at: datetime | None
    ) -> bool:
        return await queue.mark_failed(self.sessions, item, error=error, now=now, retry_at=retry_at)

    async def deliver(self, item: ClaimedMail) -> None:
        """Send one claimed mail and record the outcome; never raises (except cancellation)."""
        bound_log = log.bind(
            delivery_id=item.id, key=item.key, subscriber_id=item.subscriber_id, attempt=item.attempts
        )
        if item.resumed:
            bound_log.warning("mailer.resuming_lapsed_claim")
        try:
            mail = PAGE_MAIL.validate_python(item.payload)
        except ValidationError:
            await self.settle_failed(item, "the stored mail is unreadable", permanent=True, log_=bound_log)
            return
        wanted = item.pending if isinstance(mail, ConfirmMail) else item.confirmed
        if not wanted:
            reason = (
                "no longer waiting for a confirmation" if isinstance(mail, ConfirmMail) else "unsubscribed"
            )
            if await self.settle_with(
                item, lambda now: queue.mark_skipped(self.sessions, item, reason=reason, now=now)
            ):
                bound_log.info("mailer.skipped", reason=reason)
            return
        message = build_message(
            mail, to=item.email, token=item.token, sender=self.settings.smtp_from, key=item.key
        )
        await self.attempt(
            item,
            lambda: send_email(self.settings, message),
            secrets=[item.token, item.email],
            log_=bound_log,
        )
