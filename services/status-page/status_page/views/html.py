"""The human pages: the status overview, the event history, one report, and the public monitors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from openstatus_common.db.base import utcnow
from openstatus_common.db.models import StatusPage
from openstatus_common.pages.snapshot import LatencyPoint, MaintenanceView, ReportView, latency_series
from status_page.charts import latency_chart
from status_page.context import PageRequest
from status_page.views.common import HTML, html, html_response, respond


async def home(pr: PageRequest) -> Response:
    return await html_response(pr, "home.html")


async def events(pr: PageRequest) -> Response:
    snap = pr.snapshot
    now = snap.generated_at
    past_maintenance = [m for m in snap.maintenances if not m.upcoming(now)]
    items: list[tuple[datetime, str, ReportView | MaintenanceView]] = [
        (r.started_at, "report", r) for r in snap.reports
    ]
    items += [(m.starts_at, "maintenance", m) for m in past_maintenance]
    items.sort(key=lambda item: item[0], reverse=True)
    return await html_response(pr, "events.html", events=items)


async def report(pr: PageRequest) -> Response:
    found = pr.snapshot.report(int(pr.params["report_id"]))
    if found is None:
        raise HTTPException(404, "report not found")
    return await html_response(pr, "report.html", report=found)


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
