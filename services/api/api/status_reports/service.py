"""Status report verbs: create (with its first update), list, get, update metadata, add a timeline entry,
delete. A report's status is its newest timeline entry's (by date, then by creation). Writes check the scope
first; services flush, never commit.

Events (staged in the outbox, published by the router after the commit): ``report.published`` for a new
report, ``report.updated`` for a new timeline entry (both with ``notify``), ``report.deleted``, and
``page.changed`` when only the metadata changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.page_components.service import check_page_components, link_components, linked_components
from api.pages.service import get_page, page_changed, page_event, require_write, stage_events
from api.pagination import page_of
from api.status_reports.schemas import (
    ReportIn,
    ReportOut,
    ReportPatch,
    ReportSummary,
    ReportUpdateIn,
    ReportUpdateOut,
)
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import StatusReport, StatusReportUpdate, status_report_components
from openstatus_common.errors import FailedPrecondition, NotFound
from openstatus_common.messages import Event, EventKind
from openstatus_common.vocab import StatusReportStatus

OWNER = "report_id"


def _timeline_event(
    kind: EventKind, report: StatusReport, update: StatusReportUpdate, *, notify: bool
) -> Event:
    return page_event(
        kind,
        f"{kind.value}:{update.id}",
        workspace_id=report.workspace_id,
        page_id=report.page_id,
        report_id=report.id,
        update_id=update.id,
        notify=notify,
    )


def _set_status(report: StatusReport, status: StatusReportStatus, date: datetime) -> None:
    report.status = status.value
    report.resolved_at = date if status is StatusReportStatus.RESOLVED else None


async def get_report(
    session: AsyncSession, auth: AuthContext, report_id: int, *, for_update: bool = False
) -> StatusReport:
    """The workspace's report, or NotFound (also for another workspace's). ``for_update`` locks its row, so
    timeline changes that recompute its status one after another (PostgreSQL; SQLite writes one at a time)."""
    query = select(StatusReport).where(
        StatusReport.id == report_id, StatusReport.workspace_id == auth.workspace_id
    )
    if for_update:
        query = query.with_for_update()
    report = (await session.execute(query)).scalar_one_or_none()
    if report is None:
        raise NotFound(f"status report {report_id} not found", field="id")
    return report


async def list_reports(
    session: AsyncSession,
    auth: AuthContext,
    *,
    statuses: Sequence[StatusReportStatus] = (),
    page_id: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[StatusReport], int]:
    """The workspace's reports, newest first, optionally in some statuses or on one page."""
    conditions = [StatusReport.workspace_id == auth.workspace_id]
    if statuses:
        conditions.append(StatusReport.status.in_([status.value for status in statuses]))
    if page_id is not None:
        conditions.append(StatusReport.page_id == page_id)
    return await page_of(
        session,
        StatusReport,
        conditions,
        (StatusReport.created_at.desc(), StatusReport.id.desc()),
        limit=limit,
        offset=offset,
    )


async def create_report(
    session: AsyncSession, auth: AuthContext, *, data: ReportIn
) -> tuple[StatusReport, list[Event]]:
    """Publish a report on a page with its first timeline entry."""
    require_write(auth)
    page = await get_page(session, auth, data.pageId, field="pageId")
    component_ids = await check_page_components(session, page.id, data.pageComponentIds)
    date = data.date or utcnow()
    report = StatusReport(workspace_id=auth.workspace_id, page_id=page.id, title=data.title)
    _set_status(report, data.status, date)
    session.add(report)
    await session.flush()
    await link_components(session, status_report_components, OWNER, report.id, component_ids)
    update = StatusReportUpdate(
        report_id=report.id, status=data.status.value, message=data.message, date=date
    )
    session.add(update)
    await session.flush()
    audit.record(
        session, auth, action="status_report.create", entity_type="status_report", entity_id=report.id,
        pageId=page.id, status=report.status, notify=data.notify,
    )  # fmt: skip
    return report, stage_events(
        session, _timeline_event(EventKind.REPORT_PUBLISHED, report, update, notify=data.notify)
    )


async def update_report(
    session: AsyncSession, auth: AuthContext, report_id: int, *, changes: ReportPatch
) -> tuple[StatusReport, list[Event]]:
    """Change the title or the affected components (the timeline is not touched)."""
    require_write(auth)
    report = await get_report(session, auth, report_id)
    if changes.title is not None:
        report.title = changes.title
    if changes.pageComponentIds is not None:
        component_ids = await check_page_components(session, report.page_id, changes.pageComponentIds)
        await link_components(session, status_report_components, OWNER, report.id, component_ids)
    report.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="status_report.update", entity_type="status_report", entity_id=report.id,
        fields=sorted(changes.model_fields_set),
    )  # fmt: skip
    return report, stage_events(session, page_changed(report.page_id, report.workspace_id))


async def add_update(
    session: AsyncSession, auth: AuthContext, report_id: int, *, data: ReportUpdateIn
) -> tuple[StatusReport, list[Event]]:
    """Add a timeline entry. The report takes the status of its newest entry by date (resolved sets
    ``resolvedAt``, others clear it): a backdated entry fills in the history without changing the status."""
    require_write(auth)
    report = await get_report(session, auth, report_id, for_update=True)
    date = data.date or utcnow()
    update = StatusReportUpdate(
        report_id=report.id, status=data.status.value, message=data.message, date=date
    )
    session.add(update)
    await session.flush()
    newest = (await timeline(session, report.id))[0]
    _set_status(report, StatusReportStatus(newest.status), newest.date)
    report.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="status_report.add_update", entity_type="status_report", entity_id=report.id,
        updateId=update.id, status=update.status, notify=data.notify,
    )  # fmt: skip
    return report, stage_events(
        session, _timeline_event(EventKind.REPORT_UPDATED, report, update, notify=data.notify)
    )


async def delete_update(
    session: AsyncSession, auth: AuthContext, report_id: int, update_id: int
) -> tuple[StatusReport, list[Event]]:
    """Take a mistaken entry off the timeline; the report takes the status of the newest one left. The last
    entry stays (a report always has one): delete the report instead. Nobody is mailed about a removal."""
    require_write(auth)
    report = await get_report(session, auth, report_id, for_update=True)
    entries = await timeline(session, report.id)
    entry = next((u for u in entries if u.id == update_id), None)
    if entry is None:
        raise NotFound(f"update {update_id} is not on status report {report.id}", field="updateId")
    if len(entries) == 1:
        raise FailedPrecondition(
            "a status report keeps at least one update: delete the report instead", field="updateId"
        )
    await session.delete(entry)
    newest = next(u for u in entries if u.id != update_id)
    _set_status(report, StatusReportStatus(newest.status), newest.date)
    report.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="status_report.delete_update", entity_type="status_report", entity_id=report.id,
        updateId=update_id,
    )  # fmt: skip
    return report, stage_events(session, page_changed(report.page_id, report.workspace_id))


async def delete_report(session: AsyncSession, auth: AuthContext, report_id: int) -> list[Event]:
    """Delete the report with its timeline and component links."""
    require_write(auth)
    report = await get_report(session, auth, report_id)
    await session.execute(delete(StatusReport).where(StatusReport.id == report.id))
    audit.record(
        session, auth, action="status_report.delete", entity_type="status_report", entity_id=report.id
    )
    event = page_event(
        EventKind.REPORT_DELETED,
        f"{EventKind.REPORT_DELETED.value}:{report.id}",
        workspace_id=report.workspace_id,
        page_id=report.page_id,
        report_id=report.id,
    )
    return stage_events(session, event)


async def report_components(session: AsyncSession, report_ids: Sequence[int]) -> dict[int, list[int]]:
    return await linked_components(session, status_report_components, OWNER, report_ids)


async def timeline(session: AsyncSession, report_id: int) -> list[StatusReportUpdate]:
    """The report's updates, newest first (by date, then by creation)."""
    rows = await session.execute(
        select(StatusReportUpdate)
        .where(StatusReportUpdate.report_id == report_id)
        .order_by(StatusReportUpdate.date.desc(), StatusReportUpdate.id.desc())
    )
    return list(rows.scalars())


def summary_output(report: StatusReport, component_ids: Sequence[int]) -> ReportSummary:
    return ReportSummary(
        id=str(report.id),
        title=report.title,
        status=StatusReportStatus(report.status),
        pageId=str(report.page_id),
        pageComponentIds=[str(component_id) for component_id in component_ids],
        resolvedAt=report.resolved_at,
        createdAt=report.created_at,
        updatedAt=report.updated_at,
    )


async def report_output(session: AsyncSession, report: StatusReport) -> ReportOut:
    """The report with its components and its timeline (read in the caller's session)."""
    components = (await report_components(session, [report.id])).get(report.id, [])
    updates = [
        ReportUpdateOut(
            id=str(update.id),
            status=StatusReportStatus(update.status),
            message=update.message,
            date=update.date,
            createdAt=update.created_at,
        )
        for update in await timeline(session, report.id)
    ]
    return ReportOut(**summary_output(report, components).model_dump(), updates=updates)
