"""REST adapter for a page's components and component groups: convert, call the service, convert back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import Auth, Session, get_ctx
from api.page_components import service as components
from api.page_components.schemas import (
    ComponentIn,
    ComponentList,
    ComponentOut,
    ComponentPatch,
    GroupIn,
    GroupList,
    GroupOut,
    GroupPatch,
)
from openstatus_common.db.engine import unit_of_work
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/page/{page_id}", tags=["page component"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


@router.post("/component", status_code=status.HTTP_201_CREATED, summary="Add a monitor or static component")
async def create_component(ctx: Ctx, auth: Auth, page_id: int, body: ComponentIn) -> ComponentOut:
    async with unit_of_work(ctx.sessions) as session:
        component, events = await components.create_component(session, auth, page_id, data=body)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return components.component_output(component)


@router.get("/component", summary="List the page's components in display order")
async def list_components(session: Session, auth: Auth, page_id: int) -> ComponentList:
    rows = await components.list_components(session, auth, page_id)
    return ComponentList(items=[components.component_output(row) for row in rows], totalSize=len(rows))


@router.get("/component/{component_id}", summary="Get a component")
async def get_component(session: Session, auth: Auth, page_id: int, component_id: int) -> ComponentOut:
    _page, component = await components.get_component(session, auth, page_id, component_id)
    return components.component_output(component)


@router.patch("/component/{component_id}", summary="Update a component (only the fields given)")
async def update_component(
    ctx: Ctx, auth: Auth, page_id: int, component_id: int, body: ComponentPatch
) -> ComponentOut:
    async with unit_of_work(ctx.sessions) as session:
        component, events = await components.update_component(
            session, auth, page_id, component_id, changes=body
        )
    await publish_staged(ctx.bus, ctx.sessions, events)
    return components.component_output(component)


@router.delete("/component/{component_id}", summary="Remove a component (a linked monitor stays)")
async def delete_component(ctx: Ctx, auth: Auth, page_id: int, component_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        events = await components.delete_component(session, auth, page_id, component_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}


@router.post("/group", status_code=status.HTTP_201_CREATED, summary="Create a component group")
async def create_group(ctx: Ctx, auth: Auth, page_id: int, body: GroupIn) -> GroupOut:
    async with unit_of_work(ctx.sessions) as session:
        group, events = await components.create_group(session, auth, page_id, data=body)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return components.group_output(group, [])


@router.get("/group", summary="List the page's component groups in display order")
async def list_groups(session: Session, auth: Auth, page_id: int) -> GroupList:
    rows = await components.list_groups(session, auth, page_id)
    members = await components.group_members(session, [row.id for row in rows])
    return GroupList(
        items=[components.group_output(row, members.get(row.id, [])) for row in rows], totalSize=len(rows)
    )


@router.get("/group/{group_id}", summary="Get a component group")
async def get_group(session: Session, auth: Auth, page_id: int, group_id: int) -> GroupOut:
    _page, group = await components.get_group(session, auth, page_id, group_id)
    members = await components.group_members(session, [group.id])
    return components.group_output(group, members.get(group.id, []))


@router.patch("/group/{group_id}", summary="Update a component group (only the fields given)")
async def update_group(ctx: Ctx, auth: Auth, page_id: int, group_id: int, body: GroupPatch) -> GroupOut:
    async with unit_of_work(ctx.sessions) as session:
        group, events = await components.update_group(session, auth, page_id, group_id, changes=body)
        members = await components.group_members(session, [group.id])
    await publish_staged(ctx.bus, ctx.sessions, events)
    return components.group_output(group, members.get(group.id, []))


@router.delete("/group/{group_id}", summary="Delete a component group (its components become ungrouped)")
async def delete_group(ctx: Ctx, auth: Auth, page_id: int, group_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        events = await components.delete_group(session, auth, page_id, group_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}
