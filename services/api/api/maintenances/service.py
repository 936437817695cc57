"""Maintenance verbs: create, list, get, update, delete. Writes check the scope first; services flush only.

Events (staged in the outbox, published by the router after the commit): ``maintenance.scheduled``,
``maintenance.updated`` (both with ``notify``) and ``maintenance.deleted``. Moving the window clears
``reminder_sent_at`` so the notifier reminds subscribers of the new start.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.maintenances.schemas import MaintenanceIn, MaintenanceOut, MaintenancePatch
from api.page_components.service import check_page_components, link_components, linked_components
from api.pages.service import get_page, page_event, require_write, stage_events
from api.pagination import page_of
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import Maintenance, maintenance_components
from openstatus_common.errors import InvalidArgument, NotFound
from openstatus_common.messages import Event, EventKind

OWNER = "maintenance_id"


def _event(kind: EventKind, event_id: str, maintenance: Maintenance, **data: object) -> Event:
    return page_event(
        kind,
        event_id,
        workspace_id=maintenance.workspace_id,
        page_id=maintenance.page_id,
        maintenance_id=maintenance.id,
        **data,
    )


async def get_maintenance(session: AsyncSession, auth: AuthContext, maintenance_id: int) -> Maintenance:
    """The workspace's maintenance, or NotFound (also for another workspace's)."""
    maintenance = (
        await session.execute(
            select(Maintenance).where(
                Maintenance.id == maintenance_id, Maintenance.workspace_id == auth.workspace_id
            )
        )
    ).scalar_one_or_none()
    if maintenance is None:
        raise NotFound(f"maintenance {maintenance_id} not found", field="id")
    return maintenance


async def list_maintenances(
    session: AsyncSession, auth: AuthContext, *, page_id: int | None = None, limit: int, offset: int
) -> tuple[list[Maintenance], int]:
    """The workspace's maintenances, latest window first, optionally on one page."""
    conditions = [Maintenance.workspace_id == auth.workspace_id]
    if page_id is not None:
        conditions.append(Maintenance.page_id == page_id)

    return await page_of(
        session,
        Maintenance,
        conditions,
        (Maintenance.starts_at.desc(), Maintenance.id.desc()),
        limit=limit,
        offset=offset,
    )


async def create_maintenance(
    session: AsyncSession, auth: AuthContext, *, data: MaintenanceIn
) -> tuple[Maintenance, list[Event]]:
    require_write(auth)
    page = await get_page(session, auth, data.pageId, field="pageId")
    component_ids = await check_page_components(session, page.id, data.pageComponentIds)
    maintenance = Maintenance(
        workspace_id=auth.workspace_id,
        page_id=page.id,
        title=data.title,
        message=data.message,
        starts_at=data.from_,
        ends_at=data.to,
        notify=data.notify,
    )
    session.add(maintenance)
    await session.flush()
    await link_components(session, maintenance_components, OWNER, maintenance.id, component_ids)
    audit.record(
        session, auth, action="maintenance.create", entity_type="maintenance", entity_id=maintenance.id,
        pageId=page.id, notify=data.notify,
    )  # fmt: skip
    kind = EventKind.MAINTENANCE_SCHEDULED
    event = _event(kind, f"{kind.value}:{maintenance.id}", maintenance, notify=data.notify)
    return maintenance, stage_events(session, event)


async def update_maintenance(
    session: AsyncSession, auth: AuthContext, maintenance_id: int, *, changes: MaintenancePatch
) -> tuple[Maintenance, list[Event]]:
    """Partial update; the window, merged, must still end after it starts."""
    require_write(auth)
    maintenance = await get_maintenance(session, auth, maintenance_id)
    starts_at = changes.from_ or maintenance.starts_at
    ends_at = changes.to or maintenance.ends_at
    if ends_at <= starts_at:
        field = "to" if changes.to is not None else "from"
        raise InvalidArgument(
            f"{field}: the window must end after it starts ({_iso(starts_at)} to {_iso(ends_at)})",
            field=field,
        )
    if (starts_at, ends_at) != (maintenance.starts_at, maintenance.ends_at):
        maintenance.starts_at, maintenance.ends_at = starts_at, ends_at
        maintenance.reminder_sent_at = None
    if changes.notify:
        maintenance.notify = True  # announced now: reminded too (an update without notify keeps the choice)
    if changes.title is not None:
        maintenance.title = changes.title
    if changes.message is not None:
        maintenance.message = changes.message
    if changes.pageComponentIds is not None:
        component_ids = await check_page_components(session, maintenance.page_id, changes.pageComponentIds)
        await link_components(session, maintenance_components, OWNER, maintenance.id, component_ids)
    maintenance.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="maintenance.update", entity_type="maintenance", entity_id=maintenance.id,
        fields=sorted(changes.model_fields_set), notify=changes.notify,
    )  # fmt: skip
    kind = EventKind.MAINTENANCE_UPDATED
    event_id = f"{kind.value}:{maintenance.id}:{uuid.uuid4().hex}"
    return maintenance, stage_events(session, _event(kind, event_id, maintenance, notify=changes.notify))


async def delete_maintenance(session: AsyncSession, auth: AuthContext, maintenance_id: int) -> list[Event]:
    require_write(auth)
    maintenance = await get_maintenance(session, auth, maintenance_id)
    await session.execute(delete(Maintenance).where(Maintenance.id == maintenance.id))
    audit.record(
        session, auth, action="maintenance.delete", entity_type="maintenance", entity_id=maintenance.id
    )
    kind = EventKind.MAINTENANCE_DELETED
    return stage_events(session, _event(kind, f"{kind.value}:{maintenance.id}", maintenance))


async def maintenance_components_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    return await linked_components(session, maintenance_components, OWNER, ids)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def to_output(
    maintenance: Maintenance, component_ids: Sequence[int], *, now: datetime | None = None
) -> MaintenanceOut:
    now = now or utcnow()
    status = (
        "scheduled"
        if now < maintenance.starts_at
        else "in_progress"
        if now < maintenance.ends_at
        else "completed"
    )
    return MaintenanceOut.model_validate(
        {
            "id": str(maintenance.id),
            "title": maintenance.title,
            "message": maintenance.message,
            "from": maintenance.starts_at,
            "to": maintenance.ends_at,
            "status": status,
            "pageId": str(maintenance.page_id),
            "pageComponentIds": [str(component_id) for component_id in component_ids],
            "notify": maintenance.notify,
            "createdAt": maintenance.created_at,
            "updatedAt": maintenance.updated_at,
        }
    )
