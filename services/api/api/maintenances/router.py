"""REST adapter for maintenances: convert, call the service verb, convert back. No rules here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Auth, Session, get_ctx
from api.maintenances import service as maintenances
from api.maintenances.schemas import MaintenanceIn, MaintenanceList, MaintenanceOut, MaintenancePatch
from api.pagination import Limit, Offset
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import Maintenance
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/maintenance", tags=["maintenance"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


async def _output(session: AsyncSession, maintenance: Maintenance) -> MaintenanceOut:
    components = await maintenances.maintenance_components_of(session, [maintenance.id])
    return maintenances.to_output(maintenance, components.get(maintenance.id, []))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Schedule a maintenance window")
async def create_maintenance(ctx: Ctx, auth: Auth, body: MaintenanceIn) -> MaintenanceOut:
    async with unit_of_work(ctx.sessions) as session:
        maintenance, events = await maintenances.create_maintenance(session, auth, data=body)
        output = await _output(session, maintenance)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.get("", summary="List maintenances (latest window first)")
async def list_maintenances(
    session: Session,
    auth: Auth,
    page_id: Annotated[int | None, Query(alias="pageId", ge=1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MaintenanceList:
    rows, total = await maintenances.list_maintenances(
        session, auth, page_id=page_id, limit=limit, offset=offset
    )
    components = await maintenances.maintenance_components_of(session, [row.id for row in rows])
    return MaintenanceList(
        items=[maintenances.to_output(row, components.get(row.id, [])) for row in rows],
        totalSize=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{maintenance_id}", summary="Get a maintenance")
async def get_maintenance(session: Session, auth: Auth, maintenance_id: int) -> MaintenanceOut:
    return await _output(session, await maintenances.get_maintenance(session, auth, maintenance_id))


@router.patch("/{maintenance_id}", summary="Update a maintenance (only the fields given)")
async def update_maintenance(
    ctx: Ctx, auth: Auth, maintenance_id: int, body: MaintenancePatch
) -> MaintenanceOut:
    async with unit_of_work(ctx.sessions) as session:
        maintenance, events = await maintenances.update_maintenance(
            session, auth, maintenance_id, changes=body
        )
        output = await _output(session, maintenance)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.delete("/{maintenance_id}", summary="Delete a maintenance")
async def delete_maintenance(ctx: Ctx, auth: Auth, maintenance_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        events = await maintenances.delete_maintenance(session, auth, maintenance_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}
