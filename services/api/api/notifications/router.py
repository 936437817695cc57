"""REST adapter for notification channels: convert, call the service verb, convert back. No rules here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status

from api.deps import Auth, Session, get_ctx
from api.notifications import service as notifications
from api.notifications.schemas import NotificationIn, NotificationPatch, SendTestIn
from api.pagination import Limit, Offset
from openstatus_common.db.engine import unit_of_work
from openstatus_common.notify import Provider
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/notification", tags=["notification"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]
# The notifier bounds each send by notify_timeout; this covers the round trip and a two-step test.
REPLY_MARGIN_S = 5.0


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a notification channel")
async def create_notification(ctx: Ctx, auth: Auth, body: NotificationIn) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        channel, monitor_ids = await notifications.create_notification(session, auth, data=body)
    return notifications.to_output(channel, monitor_ids)


@router.get("", summary="List notification channels")
async def list_notifications(
    session: Session,
    auth: Auth,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, linked, total = await notifications.list_notifications(session, auth, limit=limit, offset=offset)
    return {
        "items": [notifications.to_output(row, linked.get(row.id, [])) for row in rows],
        "totalSize": total,
        "limit": limit,
        "offset": offset,
    }


@router.post("/test", summary="Send a test message to a configuration without saving it")
async def send_test(ctx: Ctx, auth: Auth, body: SendTestIn) -> dict[str, Any]:
    config = notifications.prepare_test(auth, body.provider, body.data)
    reply = await notifications.send_test(
        ctx.bus,
        auth,
        provider=body.provider,
        config=config,
        timeout=2 * ctx.settings.notify_timeout + REPLY_MARGIN_S,
    )
    return {"success": reply.success, "error": reply.error}


@router.get("/{channel_id}", summary="Get a notification channel")
async def get_notification(session: Session, auth: Auth, channel_id: int) -> dict[str, Any]:
    channel = await notifications.get_notification(session, auth, channel_id)
    linked = await notifications.linked_monitors(session, [channel.id])
    return notifications.to_output(channel, linked.get(channel.id, []))


@router.patch("/{channel_id}", summary="Update a notification channel (only the fields given)")
async def update_notification(
    ctx: Ctx, auth: Auth, channel_id: int, body: NotificationPatch
) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        channel, monitor_ids = await notifications.update_notification(
            session, auth, channel_id, changes=body
        )
    return notifications.to_output(channel, monitor_ids)


@router.delete("/{channel_id}", summary="Delete a notification channel")
async def delete_notification(ctx: Ctx, auth: Auth, channel_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        await notifications.delete_notification(session, auth, channel_id)
    return {"success": True}


@router.post("/{channel_id}/test", summary="Send a test message to a saved channel")
async def send_test_saved(ctx: Ctx, auth: Auth, channel_id: int) -> dict[str, Any]:
    # A short read of its own: no transaction stays open while the notifier sends.
    async with unit_of_work(ctx.sessions) as session:
        channel = await notifications.get_notification(session, auth, channel_id)
    provider = Provider(channel.provider)
    config = notifications.prepare_test(auth, provider, channel.config)
    reply = await notifications.send_test(
        ctx.bus,
        auth,
        provider=provider,
        config=config,
        timeout=2 * ctx.settings.notify_timeout + REPLY_MARGIN_S,
    )
    return {"success": reply.success, "error": reply.error}


@router.get("/{channel_id}/deliveries", summary="The channel's delivery log (newest first)")
async def list_deliveries(
    session: Session,
    auth: Auth,
    channel_id: int,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Literal["pending", "sending", "sent", "failed"] | None = None,
) -> dict[str, Any]:
    rows, total = await notifications.list_deliveries(
        session, auth, channel_id, limit=limit, offset=offset, status=status
    )
    return {
        "items": [notifications.delivery_output(row) for row in rows],
        "totalSize": total,
        "limit": limit,
        "offset": offset,
    }
