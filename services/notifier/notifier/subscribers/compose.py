"""Reading what a subscriber mail is about: the page, and the report update or maintenance it announces.

Each function returns the facts to store (``content``'s models), ``None`` when the row is gone (deleted since
the event; nothing to announce), and raises ``Inconsistent`` when the event names rows that do not belong
together (another workspace's page, an update of another report): such an event can never be mailed.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.subscribers.content import ConfirmMail, MaintenanceMail, PageRef, ReportMail
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import (
    Maintenance,
    PageComponent,
    StatusPage,
    StatusReport,
    StatusReportUpdate,
    maintenance_components,
    status_report_components,
)
from openstatus_common.pages.urls import page_url
from openstatus_common.settings import Settings


class Inconsistent(Exception):
    """The event's ids do not fit together."""


async def page_ref(
    session: AsyncSession, settings: Settings, page_id: int, *, workspace_id: int
) -> PageRef | None:
    page = await session.get(StatusPage, page_id)
    if page is None:
        return None
    if page.workspace_id != workspace_id:
        raise Inconsistent(f"page {page_id} is not in workspace {workspace_id}")
    if not page.published:
        return None  # a draft: nobody can open its links, so nobody is mailed about it
    return PageRef(
        title=page.title, url=page_url(settings, page.slug, page.served_domain), locale=page.default_locale
    )


async def _component_names(
    session: AsyncSession, link: Table, owner: Column[int], owner_id: int
) -> list[str]:
    names = await session.execute(
        select(PageComponent.name)
        .join(link, link.c.component_id == PageComponent.id)
        .where(owner == owner_id)
        .order_by(PageComponent.order, PageComponent.id)
    )
    return list(names.scalars())


async def report_mail(
    session: AsyncSession,
    settings: Settings,
    *,
    workspace_id: int,
    page_id: int,
    report_id: int,
    update_id: int,
) -> ReportMail | None:
    """The report's update ``update_id``: its status and message, the report's title and components."""
    page = await page_ref(session, settings, page_id, workspace_id=workspace_id)
    if page is None:
        return None
    found = (
        await session.execute(
            select(StatusReportUpdate, StatusReport)
            .join(StatusReport, StatusReport.id == StatusReportUpdate.report_id)
            .where(StatusReportUpdate.id == update_id)
        )
    ).first()
    if found is None:
        return None
    update, report = found
    if report.id != report_id or report.page_id != page_id:
        raise Inconsistent(f"update {update_id} is not an update of report {report_id} on page {page_id}")
    components = await _component_names(
        session, status_report_components, status_report_components.c.report_id, report.id
    )
    return ReportMail(
        page=page,
        report_id=report.id,
        title=report.title,
        status=update.status,
        message=update.message,
        date=update.date,
        components=components,
    )


async def maintenance_mail(
    session: AsyncSession,
    settings: Settings,
    *,
    workspace_id: int,
    page_id: int,
    maintenance_id: int,
    stage: Literal["scheduled", "updated", "reminder"],
) -> MaintenanceMail | None:
    page = await page_ref(session, settings, page_id, workspace_id=workspace_id)
    if page is None:
        return None
    maintenance = await session.get(Maintenance, maintenance_id)
    if maintenance is None:
        return None
    if maintenance.page_id != page_id:
        raise Inconsistent(f"maintenance {maintenance_id} is not on page {page_id}")
    components = await _component_names(
        session, maintenance_components, maintenance_components.c.maintenance_id, maintenance.id
    )
    now = utcnow()
    # Announced (or changed) once it has begun: "in progress", not "scheduled".
    started = stage != "reminder" and maintenance.starts_at <= now < maintenance.ends_at
    return MaintenanceMail(
        stage="in_progress" if started else stage,
        page=page,
        title=maintenance.title,
        message=maintenance.message,
        starts_at=maintenance.starts_at,
        ends_at=maintenance.ends_at,
        components=components,
    )


async def confirm_mail(
    session: AsyncSession, settings: Settings, *, workspace_id: int, page_id: int
) -> ConfirmMail | None:
    page = await page_ref(session, settings, page_id, workspace_id=workspace_id)
    return None if page is None else ConfirmMail(page=page)
