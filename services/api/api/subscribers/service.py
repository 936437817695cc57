"""Page subscriber verbs for operators: list, add (double opt-in unless skipped), unsubscribe.

The subscription rules live in ``openstatus_common.pages.subscribers``, shared with the public status page;
this module adds the workspace check, the scope check and the audit log. Services flush, never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.pages.service import get_page, require_write
from api.pagination import page_of
from api.subscribers.schemas import SubscriberIn, SubscriberOut
from openstatus_common.db.models import PageSubscriber
from openstatus_common.errors import NotFound
from openstatus_common.messages import Event
from openstatus_common.pages import subscribers


async def list_subscribers(
    session: AsyncSession,
    auth: AuthContext,
    page_id: int,
    *,
    limit: int,
    offset: int,
    include_unsubscribed: bool = False,
) -> tuple[list[PageSubscriber], int]:
    """The page's subscribers, oldest first; pending ones included, unsubscribed ones only on request."""
    page = await get_page(session, auth, page_id)
    conditions = [PageSubscriber.page_id == page.id]
    if not include_unsubscribed:
        conditions.append(PageSubscriber.unsubscribed_at.is_(None))

    return await page_of(
        session, PageSubscriber, conditions, (PageSubscriber.id,), limit=limit, offset=offset
    )


async def get_subscriber(
    session: AsyncSession, auth: AuthContext, page_id: int, subscriber_id: int
) -> PageSubscriber:
    page = await get_page(session, auth, page_id)
    subscriber = (
        await session.execute(
            select(PageSubscriber).where(
                PageSubscriber.id == subscriber_id, PageSubscriber.page_id == page.id
            )
        )
    ).scalar_one_or_none()
    if subscriber is None:
        raise NotFound(f"subscriber {subscriber_id} not found on page {page_id}", field="subscriberId")
    return subscriber


async def create_subscriber(
    session: AsyncSession, auth: AuthContext, page_id: int, *, data: SubscriberIn
) -> tuple[PageSubscriber, list[Event]]:
    """Subscribe the address; returns it and the staged ``subscriber.pending`` event, if one is due."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    subscriber, events = await subscribers.subscribe(
        session, page.id, data.email, confirmed=data.skipConfirmation
    )
    audit.record(
        session, auth, action="subscriber.create", entity_type="subscriber", entity_id=subscriber.id,
        pageId=page.id, confirmed=data.skipConfirmation,
    )  # fmt: skip
    return subscriber, events


async def delete_subscriber(
    session: AsyncSession, auth: AuthContext, page_id: int, subscriber_id: int
) -> None:
    """Unsubscribe (the row stays, marked; subscribing the address again re-activates it as pending)."""
    require_write(auth)
    subscriber = await get_subscriber(session, auth, page_id, subscriber_id)
    await subscribers.unsubscribe(session, subscriber)
    audit.record(
        session, auth, action="subscriber.delete", entity_type="subscriber", entity_id=subscriber.id,
        pageId=page_id,
    )  # fmt: skip


def to_output(subscriber: PageSubscriber) -> SubscriberOut:
    status = subscribers.status_of(subscriber)
    return SubscriberOut(
        id=str(subscriber.id),
        pageId=str(subscriber.page_id),
        email=subscriber.email,
        status="active" if status == "active" else "unsubscribed" if status == "unsubscribed" else "pending",
        acceptedAt=subscriber.accepted_at,
        unsubscribedAt=subscriber.unsubscribed_at,
        createdAt=subscriber.created_at,
        updatedAt=subscriber.updated_at,
    )
