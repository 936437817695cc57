"""The human pages: the status overview, the event history, one report, and the public monitors."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from openstatus_common.db.base import utcnow
from openstatus_common.db.models import StatusPage
from openstatus_common.pages.snapshot import (
    HISTORY_PAGE,
    HistoryCursor,
    LatencyPoint,
    MaintenanceView,
    ReportView,
    history_end,
    history_kind,
    latency_series,
    load_history,
    load_report,
)
from status_page.charts import latency_chart
from status_page.context import PageRequest
from status_page.views.common import HTML, html, html_response, respond


async def home(pr: PageRequest) -> Response:
    return await html_response(pr, "home.html")


async def events(pr: PageRequest) -> Response:
    """The tracker window's events from the snapshot; ``?before=`` pages through the older ones."""
    if "before" in pr.request.query_params:
        return await _older_events(pr)
    snap = pr.snapshot
    # Unresolved reports, ongoing and upcoming maintenance have their own sections above the past ones.
    items: list[tuple[datetime, str, ReportView | MaintenanceView]] = [
        (r.started_at, "report", r) for r in snap.past_reports
    ]
    items += [(m.starts_at, "maintenance", m) for m in snap.past_maintenances]
    items.sort(key=lambda item: item[0], reverse=True)
    older = _older_link(pr, HistoryCursor(snap.window_start)) if snap.has_older_events else None
    return await html_response(pr, "events.html", events=items, older=older)


def _cursor(pr: PageRequest) -> HistoryCursor:
    """``?before=<ISO time>[&last=<report|maintenance>-<id>]``, never later than the tracker window."""
    params = pr.request.query_params
    try:
        before = datetime.fromisoformat(params.get("before", ""))
        if before.tzinfo is None:
            before = before.replace(tzinfo=UTC)
        before = before.astimezone(UTC)
    except (ValueError, OverflowError):
        raise HTTPException(400, "before: expected an ISO 8601 date and time") from None
    kind, _, number = params.get("last", "").partition("-")
    if kind and (kind not in ("report", "maintenance") or not number.isdigit() or len(number) > 18):
        raise HTTPException(400, "last: expected report-<id> or maintenance-<id>")
    if before >= pr.snapshot.window_start:  # the newer events are the snapshot's
        return HistoryCursor(pr.snapshot.window_start)
    return HistoryCursor(before, kind or None, int(number) if kind else 0)


async def _older_events(pr: PageRequest) -> Response:
    cursor = _cursor(pr)

    async def render() -> tuple[bytes, str]:
        async with pr.pages.ctx.sessions() as session:
            found = await load_history(session, pr.page_id, before=cursor, limit=HISTORY_PAGE + 1)
        shown = found[:HISTORY_PAGE]
        items = [(history_end(item), history_kind(item), item) for item in shown]
        older = _older_link(pr, HistoryCursor.after(shown[-1])) if len(found) > HISTORY_PAGE else None
        return html(pr, "events.html", events=items, older=older, archive=True), HTML

    return await respond(pr, ("events.html", cursor), render)


def _older_link(pr: PageRequest, cursor: HistoryCursor) -> str:
    query = {"before": cursor.end.astimezone(UTC).isoformat()}
    if cursor.kind is not None:
        query["last"] = f"{cursor.kind}-{cursor.id}"
    return pr.url("events") + "?" + urlencode(query)


async def report(pr: PageRequest) -> Response:
    report_id = int(pr.params["report_id"])
    found = pr.snapshot.report(report_id)
    if found is not None:
        return await html_response(pr, "report.html", report=found)
    newest = max((r.id for r in pr.snapshot.reports), default=0)
    if not pr.snapshot.has_older_events and report_id < newest:
        # No archive, and ids only grow: an older id not in the snapshot was never this page's. A newer one
        # may be a report published since the snapshot was made (its mail already out): ask the database.
        raise HTTPException(404, "report not found")

    async def render() -> tuple[bytes, str]:
        # Older than the tracker window: read it (once per snapshot) so old links keep working.
        async with pr.pages.ctx.sessions() as session:
            old = await load_report(session, pr.page_id, report_id)
        if old is None:
            raise HTTPException(404, "report not found")
        return html(pr, "report.html", report=old), HTML

    return await respond(pr, ("report.html", report_id), render)


async def monitors(pr: PageRequest) -> Response:
    public = [c for c in pr.snapshot.components if c.type == "monitor" and c.monitor_public and c.monitor_id]

    async def render() -> tuple[bytes, str]:
        ids = [c.monitor_id for c in public if c.monitor_id is not None]
        series: dict[int, list[LatencyPoint]] = {}
        if ids:
            async with pr.pages.ctx.sessions() as session:
                series = await latency_series(session, ids, now=utcnow())
        charts = [(c, latency_chart(series.get(c.monitor_id or 0, []), pr.t)) for c in public]
        return html(pr, "monitors.html", charts=charts), HTML

    return await respond(pr, ("monitors.html",), render)


async def favicon(pr: PageRequest) -> Response:
    """The page's uploaded icon (sanitized on upload), or the default one."""
    if not pr.snapshot.page.has_icon:
        return RedirectResponse("/_static/favicon.svg", status_code=307)

    async def render() -> tuple[bytes, str]:
        async with pr.pages.ctx.sessions() as session:
            row = (
                await session.execute(
                    select(StatusPage.icon, StatusPage.icon_content_type).where(StatusPage.id == pr.page_id)
                )
            ).one_or_none()
        if row is None or row.icon is None:
            raise HTTPException(404, "no icon")
        return bytes(row.icon), row.icon_content_type or "image/x-icon"

    response = await respond(pr, ("favicon",), render)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
