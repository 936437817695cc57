"""REST adapter for a page's email subscribers: convert, call the service verb, convert back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import Auth, Session, get_ctx
from api.pagination import Limit, Offset
from api.subscribers import service as subscribers
from api.subscribers.schemas import SubscriberIn, SubscriberList, SubscriberOut
from openstatus_common.db.engine import unit_of_work
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/page/{page_id}/subscriber", tags=["page subscriber"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


@router.get("", summary="List the page's subscribers")
async def list_subscribers(
    session: Session,
    auth: Auth,
    page_id: int,
    limit: Limit = 50,
    offset: Offset = 0,
    include_unsubscribed: Annotated[bool, Query(alias="includeUnsubscribed")] = False,
) -> SubscriberList:
    rows, total = await subscribers.list_subscribers(
        session, auth, page_id, limit=limit, offset=offset, include_unsubscribed=include_unsubscribed
    )
    return SubscriberList(
        items=[subscribers.to_output(row) for row in rows], totalSize=total, limit=limit, offset=offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Subscribe an email address (double opt-in)")
async def create_subscriber(ctx: Ctx, auth: Auth, page_id: int, body: SubscriberIn) -> SubscriberOut:
    async with unit_of_work(ctx.sessions) as session:
        subscriber, events = await subscribers.create_subscriber(session, auth, page_id, data=body)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return subscribers.to_output(subscriber)


@router.get("/{subscriber_id}", summary="Get a subscriber")
async def get_subscriber(session: Session, auth: Auth, page_id: int, subscriber_id: int) -> SubscriberOut:
    return subscribers.to_output(await subscribers.get_subscriber(session, auth, page_id, subscriber_id))


@router.delete("/{subscriber_id}", summary="Unsubscribe a subscriber")
async def delete_subscriber(ctx: Ctx, auth: Auth, page_id: int, subscriber_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        await subscribers.delete_subscriber(session, auth, page_id, subscriber_id)
    return {"success": True}
