"""REST adapter for status reports: convert, call the service verb, convert back. No rules here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import Auth, Session, get_ctx
from api.pagination import Limit, Offset
from api.status_reports import service as reports
from api.status_reports.schemas import ReportIn, ReportList, ReportOut, ReportPatch, ReportUpdateIn
from openstatus_common.db.engine import unit_of_work
from openstatus_common.errors import InvalidArgument
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext
from openstatus_common.vocab import STATUS_REPORT_STATUS, StatusReportStatus

router = APIRouter(prefix="/status-report", tags=["status report"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


def _statuses(values: list[str]) -> list[StatusReportStatus]:
    """``?statuses=a&statuses=b`` or ``?statuses=a,b``, in any spelling."""
    try:
        return [
            STATUS_REPORT_STATUS.parse(item) for value in values for item in value.split(",") if item.strip()
        ]
    except ValueError as error:
        raise InvalidArgument(f"statuses: {error}", field="statuses") from None


@router.post("", status_code=status.HTTP_201_CREATED, summary="Publish a status report")
async def create_report(ctx: Ctx, auth: Auth, body: ReportIn) -> ReportOut:
    async with unit_of_work(ctx.sessions) as session:
        report, events = await reports.create_report(session, auth, data=body)
        output = await reports.report_output(session, report)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.get("", summary="List status reports (newest first)")
async def list_reports(
    session: Session,
    auth: Auth,
    statuses: Annotated[list[str] | None, Query()] = None,
    page_id: Annotated[int | None, Query(alias="pageId", ge=1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReportList:
    rows, total = await reports.list_reports(
        session, auth, statuses=_statuses(statuses or []), page_id=page_id, limit=limit, offset=offset
    )
    components = await reports.report_components(session, [row.id for row in rows])
    return ReportList(
        items=[reports.summary_output(row, components.get(row.id, [])) for row in rows],
        totalSize=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{report_id}", summary="Get a status report with its timeline (newest first)")
async def get_report(session: Session, auth: Auth, report_id: int) -> ReportOut:
    return await reports.report_output(session, await reports.get_report(session, auth, report_id))


@router.patch("/{report_id}", summary="Update a status report's title or components")
async def update_report(ctx: Ctx, auth: Auth, report_id: int, body: ReportPatch) -> ReportOut:
    async with unit_of_work(ctx.sessions) as session:
        report, events = await reports.update_report(session, auth, report_id, changes=body)
        output = await reports.report_output(session, report)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.post(
    "/{report_id}/update",
    status_code=status.HTTP_201_CREATED,
    summary="Add an entry to the report's timeline (the report takes its status)",
)
async def add_update(ctx: Ctx, auth: Auth, report_id: int, body: ReportUpdateIn) -> ReportOut:
    async with unit_of_work(ctx.sessions) as session:
        report, events = await reports.add_update(session, auth, report_id, data=body)
        output = await reports.report_output(session, report)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.delete(
    "/{report_id}/update/{update_id}",
    summary="Remove an entry from the report's timeline (the report takes the status of the newest left)",
)
async def delete_update(ctx: Ctx, auth: Auth, report_id: int, update_id: int) -> ReportOut:
    async with unit_of_work(ctx.sessions) as session:
        report, events = await reports.delete_update(session, auth, report_id, update_id)
        output = await reports.report_output(session, report)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.delete("/{report_id}", summary="Delete a status report and its timeline")
async def delete_report(ctx: Ctx, auth: Auth, report_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        events = await reports.delete_report(session, auth, report_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}
