"""Page component and group verbs. Each takes the session, the caller and the page id first.

Services flush, never commit. Every change stages ``page.changed``. A monitor component needs a monitor of
the workspace that is active and not deleted, at most once per page (seed page 26).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.page_components.schemas import (
    ComponentIn,
    ComponentOut,
    ComponentPatch,
    GroupIn,
    GroupOut,
    GroupPatch,
)
from api.pages.service import get_page, page_changed, require_write, stage_events
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import Monitor, PageComponent, PageComponentGroup, StatusPage
from openstatus_common.errors import AlreadyExists, InvalidArgument, NotFound
from openstatus_common.messages import Event


async def _next_order(session: AsyncSession, page_id: int) -> int:
    """One after the last component or group of the page (they share one order)."""
    components = (
        await session.execute(select(func.max(PageComponent.order)).where(PageComponent.page_id == page_id))
    ).scalar_one()
    groups = (
        await session.execute(
            select(func.max(PageComponentGroup.order)).where(PageComponentGroup.page_id == page_id)
        )
    ).scalar_one()
    highest = max((value for value in (components, groups) if value is not None), default=-1)
    return int(highest) + 1


async def _next_group_order(session: AsyncSession, group_id: int) -> int:
    highest = (
        await session.execute(
            select(func.max(PageComponent.group_order)).where(PageComponent.group_id == group_id)
        )
    ).scalar_one()
    return 0 if highest is None else int(highest) + 1


async def _group_of_page(session: AsyncSession, page_id: int, group_id: int) -> PageComponentGroup:
    group = (
        await session.execute(
            select(PageComponentGroup).where(
                PageComponentGroup.id == group_id, PageComponentGroup.page_id == page_id
            )
        )
    ).scalar_one_or_none()
    if group is None:
        raise InvalidArgument(f"groupId: group {group_id} is not on this page", field="groupId")
    return group


async def _linkable_monitor(
    session: AsyncSession, auth: AuthContext, page: StatusPage, monitor_id: int
) -> Monitor:
    monitor = (
        await session.execute(
            select(Monitor).where(
                Monitor.id == monitor_id,
                Monitor.workspace_id == auth.workspace_id,
                Monitor.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if monitor is None:
        raise InvalidArgument(f"monitorId: monitor {monitor_id} not found", field="monitorId")
    if not monitor.active:
        raise InvalidArgument(
            f"monitorId: monitor {monitor_id} is not active; only active monitors can be shown on a page",
            field="monitorId",
        )
    linked = (
        await session.execute(
            select(PageComponent.id).where(
                PageComponent.page_id == page.id, PageComponent.monitor_id == monitor_id
            )
        )
    ).scalar_one_or_none()
    if linked is not None:
        raise AlreadyExists(
            f"monitor {monitor_id} is already on this page (component {linked})", field="monitorId"
        )
    return monitor


async def get_component(
    session: AsyncSession, auth: AuthContext, page_id: int, component_id: int
) -> tuple[StatusPage, PageComponent]:
    """The page's component, or NotFound (also on another workspace's page)."""
    page = await get_page(session, auth, page_id)
    component = (
        await session.execute(
            select(PageComponent).where(PageComponent.id == component_id, PageComponent.page_id == page.id)
        )
    ).scalar_one_or_none()
    if component is None:
        raise NotFound(f"component {component_id} not found on page {page_id}", field="componentId")
    return page, component


async def list_components(session: AsyncSession, auth: AuthContext, page_id: int) -> list[PageComponent]:
    """The page's components in display order."""
    page = await get_page(session, auth, page_id)
    rows = await session.execute(
        select(PageComponent)
        .where(PageComponent.page_id == page.id)
        .order_by(PageComponent.order, PageComponent.id)
    )
    return list(rows.scalars())


async def create_component(
    session: AsyncSession, auth: AuthContext, page_id: int, *, data: ComponentIn
) -> tuple[PageComponent, list[Event]]:
    """Add a monitor or static component to the page."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    name = data.name
    if data.type == "monitor":
        if data.monitorId is None:
            raise InvalidArgument("monitorId: required for a monitor component", field="monitorId")
        monitor = await _linkable_monitor(session, auth, page, data.monitorId)
        name = name or monitor.name
    elif data.monitorId is not None:
        raise InvalidArgument("monitorId: only a monitor component has a monitor", field="monitorId")
    if name is None:
        raise InvalidArgument("name: required for a static component", field="name")
    group_order = data.groupOrder
    if data.groupId is not None:
        await _group_of_page(session, page.id, data.groupId)
        if group_order is None:
            group_order = await _next_group_order(session, data.groupId)
    component = PageComponent(
        page_id=page.id,
        type=data.type,
        monitor_id=data.monitorId,
        name=name[:256],
        description=data.description,
        order=data.order if data.order is not None else await _next_order(session, page.id),
        group_id=data.groupId,
        group_order=group_order or 0,
    )
    session.add(component)
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyExists(f"monitor {data.monitorId} is already on this page", field="monitorId") from None
    audit.record(
        session, auth, action="page_component.create", entity_type="page_component", entity_id=component.id,
        pageId=page.id, type=component.type,
    )  # fmt: skip
    return component, stage_events(session, page_changed(page.id, page.workspace_id))


async def update_component(
    session: AsyncSession, auth: AuthContext, page_id: int, component_id: int, *, changes: ComponentPatch
) -> tuple[PageComponent, list[Event]]:
    """Change the name, description, order or group; the type and the monitor are fixed."""
    require_write(auth)
    page, component = await get_component(session, auth, page_id, component_id)
    given = changes.model_fields_set
    if "type" in given and changes.type != component.type:  # the schema lowercased it
        raise InvalidArgument(
            "type: a component's type cannot change; delete it and add a new one", field="type"
        )
    if "monitorId" in given and str(changes.monitorId) != str(component.monitor_id):
        raise InvalidArgument(
            "monitorId: a component's monitor cannot change; delete it and add a new one", field="monitorId"
        )
    if changes.name is not None:
        component.name = changes.name
    if changes.description is not None:
        component.description = changes.description
    if changes.order is not None:
        component.order = changes.order
    if "groupId" in given and changes.groupId != component.group_id:
        if changes.groupId is not None:
            await _group_of_page(session, page.id, changes.groupId)
        component.group_id = changes.groupId
        if changes.groupOrder is None and changes.groupId is not None:
            component.group_order = await _next_group_order(session, changes.groupId)
    if changes.groupOrder is not None:
        component.group_order = changes.groupOrder
    component.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="page_component.update", entity_type="page_component", entity_id=component.id,
        pageId=page.id, fields=sorted(given),
    )  # fmt: skip
    return component, stage_events(session, page_changed(page.id, page.workspace_id))


async def delete_component(
    session: AsyncSession, auth: AuthContext, page_id: int, component_id: int
) -> list[Event]:
    """Remove the component (and its report and maintenance links); a linked monitor stays."""
    require_write(auth)
    page, component = await get_component(session, auth, page_id, component_id)
    await session.execute(delete(PageComponent).where(PageComponent.id == component.id))
    audit.record(
        session, auth, action="page_component.delete", entity_type="page_component", entity_id=component.id,
        pageId=page.id,
    )  # fmt: skip
    return stage_events(session, page_changed(page.id, page.workspace_id))


async def remove_monitor_components(session: AsyncSession, auth: AuthContext, monitor_id: int) -> list[Event]:
    """A deleted monitor leaves no component behind: pages stop showing it, and so does the API (with its
    report and maintenance links). Each page it was on is refreshed."""
    rows = (
        await session.execute(
            select(PageComponent.id, StatusPage.id, StatusPage.workspace_id)
            .join(StatusPage, StatusPage.id == PageComponent.page_id)
            .where(PageComponent.monitor_id == monitor_id, StatusPage.workspace_id == auth.workspace_id)
        )
    ).all()
    if not rows:
        return []
    await session.execute(delete(PageComponent).where(PageComponent.id.in_([row[0] for row in rows])))
    for component_id, page_id, _ in rows:
        audit.record(
            session, auth, action="page_component.delete", entity_type="page_component", entity_id=component_id,
            pageId=page_id, monitorId=monitor_id,
        )  # fmt: skip
    pages = {(page_id, workspace_id) for _, page_id, workspace_id in rows}
    return stage_events(
        session, *(page_changed(page_id, workspace_id) for page_id, workspace_id in sorted(pages))
    )


async def check_page_components(
    session: AsyncSession, page_id: int, component_ids: Sequence[int], *, field: str = "pageComponentIds"
) -> list[int]:
    """The ids, deduplicated in order; each must be a component of the page (InvalidArgument naming it)."""
    wanted = list(dict.fromkeys(component_ids))
    if not wanted:
        return []
    found = set(
        (
            await session.execute(
                select(PageComponent.id).where(PageComponent.id.in_(wanted), PageComponent.page_id == page_id)
            )
        ).scalars()
    )
    for index, component_id in enumerate(component_ids):
        if component_id not in found:
            name = f"{field}[{index}]"
            raise InvalidArgument(f"{name}: component {component_id} is not on page {page_id}", field=name)
    return wanted


async def link_components(
    session: AsyncSession, table: Table, owner_column: str, owner_id: int, component_ids: Sequence[int]
) -> None:
    """Make ``component_ids`` the components a report or maintenance (``owner_column``) affects."""
    owner = table.c[owner_column]
    await session.execute(delete(table).where(owner == owner_id))
    if component_ids:
        await session.execute(
            insert(table),
            [{owner_column: owner_id, "component_id": component_id} for component_id in component_ids],
        )


async def linked_components(
    session: AsyncSession, table: Table, owner_column: str, owner_ids: Sequence[int]
) -> dict[int, list[int]]:
    """The components each report or maintenance affects, by owner id, in id order."""
    linked: dict[int, list[int]] = defaultdict(list)
    if not owner_ids:
        return linked
    owner = table.c[owner_column]
    rows = await session.execute(
        select(owner, table.c.component_id).where(owner.in_(owner_ids)).order_by(table.c.component_id)
    )
    for owner_id, component_id in rows:
        linked[owner_id].append(component_id)
    return linked


def component_output(component: PageComponent) -> ComponentOut:
    return ComponentOut(
        id=str(component.id),
        pageId=str(component.page_id),
        type="monitor" if component.type == "monitor" else "static",
        monitorId=None if component.monitor_id is None else str(component.monitor_id),
        name=component.name,
        description=component.description,
        order=component.order,
        groupId=None if component.group_id is None else str(component.group_id),
        groupOrder=component.group_order,
        createdAt=component.created_at,
        updatedAt=component.updated_at,
    )


# --- groups ----------------------------------------------------------------------------------------------


async def get_group(
    session: AsyncSession, auth: AuthContext, page_id: int, group_id: int
) -> tuple[StatusPage, PageComponentGroup]:
    page = await get_page(session, auth, page_id)
    group = (
        await session.execute(
            select(PageComponentGroup).where(
                PageComponentGroup.id == group_id, PageComponentGroup.page_id == page.id
            )
        )
    ).scalar_one_or_none()
    if group is None:
        raise NotFound(f"group {group_id} not found on page {page_id}", field="groupId")
    return page, group


async def list_groups(session: AsyncSession, auth: AuthContext, page_id: int) -> list[PageComponentGroup]:
    page = await get_page(session, auth, page_id)
    rows = await session.execute(
        select(PageComponentGroup)
        .where(PageComponentGroup.page_id == page.id)
        .order_by(PageComponentGroup.order, PageComponentGroup.id)
    )
    return list(rows.scalars())


async def group_members(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each group's component ids in their group order."""
    members: dict[int, list[int]] = defaultdict(list)
    if not group_ids:
        return members
    rows = await session.execute(
        select(PageComponent.group_id, PageComponent.id)
        .where(PageComponent.group_id.in_(group_ids))
        .order_by(PageComponent.group_order, PageComponent.id)
    )
    for group_id, component_id in rows:
        if group_id is not None:
            members[group_id].append(component_id)
    return members


async def create_group(
    session: AsyncSession, auth: AuthContext, page_id: int, *, data: GroupIn
) -> tuple[PageComponentGroup, list[Event]]:
    require_write(auth)
    page = await get_page(session, auth, page_id)
    group = PageComponentGroup(
        page_id=page.id,
        name=data.name,
        order=data.order if data.order is not None else await _next_order(session, page.id),
        default_open=data.defaultOpen,
    )
    session.add(group)
    await session.flush()
    audit.record(
        session,
        auth,
        action="page_group.create",
        entity_type="page_group",
        entity_id=group.id,
        pageId=page.id,
    )
    return group, stage_events(session, page_changed(page.id, page.workspace_id))


async def update_group(
    session: AsyncSession, auth: AuthContext, page_id: int, group_id: int, *, changes: GroupPatch
) -> tuple[PageComponentGroup, list[Event]]:
    require_write(auth)
    page, group = await get_group(session, auth, page_id, group_id)
    if changes.name is not None:
        group.name = changes.name
    if changes.order is not None:
        group.order = changes.order
    if changes.defaultOpen is not None:
        group.default_open = changes.defaultOpen
    group.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="page_group.update", entity_type="page_group", entity_id=group.id,
        pageId=page.id, fields=sorted(changes.model_fields_set),
    )  # fmt: skip
    return group, stage_events(session, page_changed(page.id, page.workspace_id))


async def delete_group(session: AsyncSession, auth: AuthContext, page_id: int, group_id: int) -> list[Event]:
    """Delete the group; its components stay on the page, ungrouped (the foreign key sets them NULL)."""
    require_write(auth)
    page, group = await get_group(session, auth, page_id, group_id)
    await session.execute(delete(PageComponentGroup).where(PageComponentGroup.id == group.id))
    audit.record(
        session,
        auth,
        action="page_group.delete",
        entity_type="page_group",
        entity_id=group.id,
        pageId=page.id,
    )
    return stage_events(session, page_changed(page.id, page.workspace_id))


def group_output(group: PageComponentGroup, component_ids: Sequence[int]) -> GroupOut:
    return GroupOut(
        id=str(group.id),
        pageId=str(group.page_id),
        name=group.name,
        order=group.order,
        defaultOpen=group.default_open,
        componentIds=[str(component_id) for component_id in component_ids],
        createdAt=group.created_at,
        updatedAt=group.updated_at,
    )
