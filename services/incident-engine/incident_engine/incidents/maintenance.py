"""The maintenance hook: is a monitor inside a maintenance window at a given instant?"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from openstatus_common.db.models import Maintenance, PageComponent, maintenance_components


async def active_maintenance_for(session: AsyncSession, monitor_id: int, at: datetime) -> bool:
    """True when a maintenance whose ``[starts_at, ends_at)`` covers ``at`` affects a component of the monitor.

    A maintenance affects the monitor through the status-page components it lists that show the monitor.
    """
    query = (
        select(Maintenance.id)
        .join(maintenance_components, maintenance_components.c.maintenance_id == Maintenance.id)
        .join(PageComponent, PageComponent.id == maintenance_components.c.component_id)
        .where(
            PageComponent.monitor_id == monitor_id,
            Maintenance.starts_at <= at,
            Maintenance.ends_at > at,
        )
        .limit(1)
    )
    return (await session.execute(query)).first() is not None
