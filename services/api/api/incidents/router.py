"""REST adapter for incidents: convert, call the service verb, convert back. No rules here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Auth, Session, get_ctx
from api.incidents import service as incidents
from api.incidents.schemas import IncidentOut, IncidentPage, IncidentStatus
from api.pagination import Limit, Offset
from openstatus_common.db.engine import unit_of_work
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/incident", tags=["incident"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


@router.get("", summary="List incidents (newest first)")
async def list_incidents(
    session: Session,
    auth: Auth,
    monitor_id: Annotated[int | None, Query(alias="monitorId", ge=1)] = None,
    status: Annotated[IncidentStatus | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> IncidentPage:
    rows, total = await incidents.list_incidents(
        session, auth, monitor_id=monitor_id, status=status, limit=limit, offset=offset
    )
    return IncidentPage(
        items=[incidents.to_output(row) for row in rows], totalSize=total, limit=limit, offset=offset
    )


@router.get("/{incident_id}", summary="Get an incident")
async def get_incident(session: Session, auth: Auth, incident_id: int) -> IncidentOut:
    return incidents.to_output(await incidents.get_incident(session, auth, incident_id))


@router.post("/{incident_id}/acknowledge", summary="Acknowledge an incident (someone is on it)")
async def acknowledge_incident(ctx: Ctx, auth: Auth, incident_id: int) -> IncidentOut:
    async with unit_of_work(ctx.sessions) as session:
        incident = await incidents.acknowledge_incident(session, auth, incident_id)
    return incidents.to_output(incident)


@router.post("/{incident_id}/resolve", summary="Resolve an incident by hand")
async def resolve_incident(ctx: Ctx, auth: Auth, incident_id: int) -> IncidentOut:
    async with unit_of_work(ctx.sessions) as session:
        incident, events = await incidents.resolve_incident(session, auth, incident_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return incidents.to_output(incident)
