"""Notification channel verbs. Each takes the session and the caller first; writes check the scope first.

Services flush, never commit: the router owns the transaction. Configs are validated by the shared provider
models (``openstatus_common.notify``) and never leave this module unmasked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.notifications.schemas import NotificationIn, NotificationPatch
from api.pagination import page_of
from openstatus_common.bus import Bus
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import (
    Monitor,
    NotificationChannel,
    NotificationDelivery,
    monitor_notifications,
)
from openstatus_common.db.models.notification_delivery import DELIVERY_STATUSES
from openstatus_common.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from openstatus_common.notify import (
    SEND_TEST_SUBJECT,
    ConfigError,
    Provider,
    SendTestReply,
    SendTestRequest,
    mask_config,
    merge_config,
    validate_config,
)


def _require_write(auth: AuthContext) -> None:
    if not auth.can_write:
        raise PermissionDenied("this API key is read-only")


def check_config(provider: Provider, data: object) -> dict[str, Any]:
    """The normalized config, or InvalidArgument naming the field as ``data.<field>``."""
    try:
        return validate_config(provider, data)
    except ConfigError as error:
        field = f"data.{error.field}" if error.field else "data"
        raise InvalidArgument(f"{field}: {error.message}", field=field) from None


async def _check_monitors(session: AsyncSession, auth: AuthContext, monitor_ids: Sequence[int]) -> list[int]:
    """The ids, deduplicated in order; each must be a live monitor of the caller's workspace."""
    wanted = list(dict.fromkeys(monitor_ids))
    if not wanted:
        return []
    found = set(
        (
            await session.execute(
                select(Monitor.id).where(
                    Monitor.id.in_(wanted),
                    Monitor.workspace_id == auth.workspace_id,
                    Monitor.deleted_at.is_(None),
                )
            )
        ).scalars()
    )
    for index, monitor_id in enumerate(monitor_ids):
        if monitor_id not in found:
            field = f"monitorIds[{index}]"
            raise InvalidArgument(f"{field}: monitor {monitor_id} not found", field=field)
    return wanted


async def _link(session: AsyncSession, channel_id: int, monitor_ids: list[int]) -> None:
    await session.execute(
        delete(monitor_notifications).where(monitor_notifications.c.channel_id == channel_id)
    )
    if monitor_ids:
        await session.execute(
            insert(monitor_notifications),
            [{"channel_id": channel_id, "monitor_id": monitor_id} for monitor_id in monitor_ids],
        )


async def linked_monitors(session: AsyncSession, channel_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each channel's live (not deleted) monitors, by id."""
    linked: dict[int, list[int]] = defaultdict(list)
    if not channel_ids:
        return linked
    rows = await session.execute(
        select(monitor_notifications.c.channel_id, monitor_notifications.c.monitor_id)
        .join(Monitor, Monitor.id == monitor_notifications.c.monitor_id)
        .where(monitor_notifications.c.channel_id.in_(channel_ids), Monitor.deleted_at.is_(None))
        .order_by(monitor_notifications.c.monitor_id)
    )
    for channel_id, monitor_id in rows:
        linked[channel_id].append(monitor_id)
    return linked


async def create_notification(
    session: AsyncSession, auth: AuthContext, *, data: NotificationIn
) -> tuple[NotificationChannel, list[int]]:
    """Create a channel of ``data.provider`` linked to ``data.monitorIds``."""
    _require_write(auth)
    config = check_config(data.provider, data.data)
    monitor_ids = await _check_monitors(session, auth, data.monitorIds)
    channel = NotificationChannel(
        workspace_id=auth.workspace_id,
        name=data.name or data.provider.value,
        provider=data.provider.value,
        config=config,
    )
    session.add(channel)
    await session.flush()
    await _link(session, channel.id, monitor_ids)
    audit.record(
        session,
        auth,
        action="notification.create",
        entity_type="notification",
        entity_id=channel.id,
        provider=channel.provider,
    )
    return channel, monitor_ids


async def get_notification(session: AsyncSession, auth: AuthContext, channel_id: int) -> NotificationChannel:
    """The workspace's channel, or NotFound (another workspace's channel too)."""
    channel = (
        await session.execute(
            select(NotificationChannel).where(
                NotificationChannel.id == channel_id,
                NotificationChannel.workspace_id == auth.workspace_id,
            )
        )
    ).scalar_one_or_none()
    if channel is None:
        raise NotFound(f"notification {channel_id} not found", field="id")
    return channel


async def list_notifications(
    session: AsyncSession, auth: AuthContext, *, limit: int, offset: int
) -> tuple[list[NotificationChannel], dict[int, list[int]], int]:
    condition = NotificationChannel.workspace_id == auth.workspace_id
    rows, total = await page_of(
        session, NotificationChannel, [condition], (NotificationChannel.id,), limit=limit, offset=offset
    )
    return rows, await linked_monitors(session, [row.id for row in rows]), total


async def update_notification(
    session: AsyncSession, auth: AuthContext, channel_id: int, *, changes: NotificationPatch
) -> tuple[NotificationChannel, list[int]]:
    """Partial update: the stored config merged with ``changes.data`` must be valid for the provider."""
    _require_write(auth)
    channel = await get_notification(session, auth, channel_id)
    given = changes.model_fields_set - {"provider"}
    if changes.name is not None:
        channel.name = changes.name
    if changes.data is not None:
        provider = Provider(channel.provider)
        channel.config = check_config(provider, merge_config(provider, channel.config, changes.data))
    if changes.monitorIds is not None:
        await _link(session, channel.id, await _check_monitors(session, auth, changes.monitorIds))
    channel.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        auth,
        action="notification.update",
        entity_type="notification",
        entity_id=channel.id,
        # Which data fields changed, never their values.
        fields=sorted(given),
        dataFields=sorted(changes.data) if changes.data else [],
    )
    return channel, (await linked_monitors(session, [channel.id]))[channel.id]


async def delete_notification(session: AsyncSession, auth: AuthContext, channel_id: int) -> None:
    """Delete the channel, its monitor links and its delivery log; alerts in flight to it are dropped."""
    _require_write(auth)
    await get_notification(session, auth, channel_id)
    # The database cascades to the links and the delivery log (no ORM collection is loaded).
    await session.execute(delete(NotificationChannel).where(NotificationChannel.id == channel_id))
    audit.record(
        session, auth, action="notification.delete", entity_type="notification", entity_id=channel_id
    )


async def list_deliveries(
    session: AsyncSession,
    auth: AuthContext,
    channel_id: int,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
) -> tuple[list[NotificationDelivery], int]:
    """The channel's delivery log, newest first."""
    await get_notification(session, auth, channel_id)
    condition = NotificationDelivery.channel_id == channel_id
    if status is not None:
        if status not in DELIVERY_STATUSES:
            raise InvalidArgument(f"status: must be one of {', '.join(DELIVERY_STATUSES)}", field="status")
        condition = condition & (NotificationDelivery.status == status)

    return await page_of(
        session,
        NotificationDelivery,
        [condition],
        (NotificationDelivery.id.desc(),),
        limit=limit,
        offset=offset,
    )


def prepare_test(auth: AuthContext, provider: Provider, data: object) -> dict[str, Any]:
    """A test sends real messages, so it needs write scope; the config must be valid."""
    _require_write(auth)
    return check_config(provider, data)


async def send_test(
    bus: Bus, auth: AuthContext, *, provider: Provider, config: dict[str, Any], timeout: float
) -> SendTestReply:
    """Have the notifier send a test message to ``config`` (nothing stored) and return its verdict."""
    request = SendTestRequest(workspace_id=auth.workspace_id, provider=provider, config=config)
    try:
        message = await bus.nc.request(SEND_TEST_SUBJECT, request.model_dump_json().encode(), timeout=timeout)
    except NoRespondersError:
        raise Unavailable("no notifier is running to send the test message") from None
    except (NatsTimeoutError, TimeoutError):
        raise Unavailable(f"the notifier did not answer within {timeout:g}s") from None
    return SendTestReply.model_validate_json(message.data)


def to_output(channel: NotificationChannel, monitor_ids: Sequence[int]) -> dict[str, Any]:
    provider = Provider(channel.provider)
    return {
        "id": str(channel.id),
        "name": channel.name,
        "provider": provider.value,
        "data": mask_config(provider, channel.config),
        "monitorIds": [str(monitor_id) for monitor_id in monitor_ids],
        "createdAt": channel.created_at.isoformat(),
        "updatedAt": channel.updated_at.isoformat(),
    }


def delivery_output(delivery: NotificationDelivery) -> dict[str, Any]:
    alert = delivery.payload.get("alert") or {}
    return {
        "id": str(delivery.id),
        "eventId": delivery.event_id,
        "event": delivery.payload.get("kind"),
        "monitorId": None if delivery.monitor_id is None else str(delivery.monitor_id),
        "alertStatus": alert.get("status"),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "lastError": delivery.last_error,
        "sentAt": delivery.sent_at.isoformat() if delivery.sent_at else None,
        "nextAttemptAt": delivery.next_attempt_at.isoformat()
        if delivery.next_attempt_at and delivery.status in ("pending", "sending")
        else None,
        "createdAt": delivery.created_at.isoformat(),
        "updatedAt": delivery.updated_at.isoformat(),
    }
