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

The loop (claims, leases, backoff, recording outcomes) is ``notifier.claim_loop``, shared with the subscriber
mailer; this module says what an alert delivery is and how one is sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import deliveries
from notifier.claim_loop import ClaimLoop, backoff, send_bound
from notifier.content import Notice
from notifier.deliveries import Claimed
from notifier.senders import SendContext, send
from openstatus_common.messages import MonitorAlert
from openstatus_common.notify import secret_values
from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)

__all__ = ["Dispatcher", "backoff", "details_url", "send_bound"]


def details_url(settings: Settings, monitor_id: int) -> str:
    return f"{settings.api_url}/v1/monitor/{monitor_id}"


class Dispatcher(ClaimLoop[Claimed]):
    name = "dispatcher"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: SendContext,
        *,
        poll_interval: float = 1.0,
        concurrency: int = 64,
        shutdown_timeout: float | None = None,
    ) -> None:
        super().__init__(
            sessions,
            senders.settings,
            poll_interval=poll_interval,
            concurrency=concurrency,
            shutdown_timeout=shutdown_timeout,
        )
        self.senders = senders

    async def claim(self, *, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
        return await deliveries.claim_due(self.sessions, now=now, lease=lease, limit=limit)

    async def record_sent(self, item: Claimed, *, now: datetime) -> bool:
        return await deliveries.mark_sent(self.sessions, item, now=now)

    async def record_failed(
        self, item: Claimed, *, error: str, now: datetime, retry_at: datetime | None
    ) -> bool:
        return await deliveries.mark_failed(self.sessions, item, error=error, now=now, retry_at=retry_at)

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
            await self.settle_failed(item, "the stored alert is unreadable", permanent=True, log_=bound_log)
            return
        notice = Notice(
            alert=alert,
            key=f"{item.event_id}:{item.channel_id}",
            details_url=details_url(self.settings, alert.monitor.id),
        )
        await self.attempt(
            item,
            lambda: send(self.senders, item.provider, item.config, notice),
            secrets=secrets,
            log_=bound_log,
        )
