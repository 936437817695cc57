"""REST adapter for monitors: convert, call the service verb, convert back. No rules here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status
from pydantic import ValidationError

from api.deps import Auth, Session, get_ctx
from api.incidents.service import monitor_region_states
from api.monitors import runs
from api.monitors import service as monitors
from api.monitors.schedule import publish_schedule
from api.monitors.schemas import INPUT_MODELS, DNSMonitorIn, HTTPMonitorIn, MonitorBase, TCPMonitorIn
from api.pagination import Limit, Offset
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.errors import InvalidArgument
from openstatus_common.outbox import publish_staged
from openstatus_common.results import queries as results
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/monitor", tags=["monitor"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


async def _create(ctx: ServiceContext, auth: Auth, data: MonitorBase) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        monitor = await monitors.create_monitor(session, auth, data=data, served=ctx.settings.regions)
    await publish_schedule(ctx.bus, monitor)
    return monitors.to_output(monitor)


@router.post("/http", status_code=status.HTTP_201_CREATED, summary="Create an HTTP monitor")
async def create_http(ctx: Ctx, auth: Auth, body: HTTPMonitorIn) -> dict[str, Any]:
    return await _create(ctx, auth, body)


@router.post("/tcp", status_code=status.HTTP_201_CREATED, summary="Create a TCP monitor")
async def create_tcp(ctx: Ctx, auth: Auth, body: TCPMonitorIn) -> dict[str, Any]:
    return await _create(ctx, auth, body)


@router.post("/dns", status_code=status.HTTP_201_CREATED, summary="Create a DNS monitor")
async def create_dns(ctx: Ctx, auth: Auth, body: DNSMonitorIn) -> dict[str, Any]:
    return await _create(ctx, auth, body)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a monitor of the given kind")
async def create_any(ctx: Ctx, auth: Auth, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    fields = dict(body)
    kind = str(fields.pop("kind", fields.pop("type", "http"))).lower()
    model = INPUT_MODELS.get(kind)
    if model is None:
        raise InvalidArgument(f"kind: must be one of {', '.join(INPUT_MODELS)}", field="kind")
    try:
        data = model.model_validate(fields)
    except ValidationError as error:
        raise monitors.invalid_argument(error) from None
    return await _create(ctx, auth, data)


@router.get("", summary="List monitors")
async def list_monitors(
    session: Session,
    auth: Auth,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await monitors.list_monitors(session, auth, limit=limit, offset=offset)
    return {
        "items": [monitors.to_output(m) for m in rows],
        "totalSize": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{monitor_id}", summary="Get a monitor")
async def get_monitor(session: Session, auth: Auth, monitor_id: int) -> dict[str, Any]:
    return monitors.to_output(await monitors.get_monitor(session, auth, monitor_id))


@router.patch("/{monitor_id}", summary="Update a monitor (only the fields given)")
async def update_monitor(
    ctx: Ctx, auth: Auth, monitor_id: int, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    async with unit_of_work(ctx.sessions) as session:
        monitor, events = await monitors.update_monitor(
            session, auth, monitor_id, changes=body, served=ctx.settings.regions
        )
    await publish_schedule(ctx.bus, monitor)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return monitors.to_output(monitor)


@router.delete("/{monitor_id}", summary="Delete a monitor")
async def delete_monitor(ctx: Ctx, auth: Auth, monitor_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        monitor, events = await monitors.delete_monitor(session, auth, monitor_id)
    await publish_schedule(ctx.bus, monitor)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}


@router.get("/{monitor_id}/status", summary="The monitor's status and each region's latest check")
async def monitor_status(session: Session, auth: Auth, monitor_id: int) -> dict[str, Any]:
    """Each configured region as the incident engine judged it (scheduled checks, thresholds applied), so a
    region failing below the quorum shows as error while the monitor stays active. A region the engine has
    not judged yet falls back to its latest recorded result (which includes on-demand runs)."""
    monitor = await monitors.get_monitor(session, auth, monitor_id)
    states = await monitor_region_states(session, monitor.id)
    latest = {item.region: item for item in await results.latest_status(session, monitor_id=monitor.id)}
    regions = []
    for state in states:
        item = state.model_dump(mode="json")
        recorded = latest.get(state.region)
        if state.status == "unknown" and recorded is not None:
            item.update(
                status=recorded.outcome,
                lastOutcome=recorded.outcome,
                lastCheckedAt=recorded.scheduled_at.isoformat(),
                error=recorded.error,
                statusCode=recorded.status_code,
                latency=recorded.latency_ms,
            )
        item["verdict"] = item["status"]
        item["status"] = VERDICT_TO_STATUS[item["verdict"]]
        regions.append(item)
    return {"id": str(monitor.id), "status": monitor.status, "regions": regions}


# A region's verdict in the monitor-status vocabulary of the RPC API (MonitorStatus).
VERDICT_TO_STATUS = {"success": "active", "degraded": "degraded", "error": "error", "unknown": "unknown"}


@router.get("/{monitor_id}/results", summary="Recorded check results, newest first")
async def monitor_results(
    session: Session,
    auth: Auth,
    monitor_id: int,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    monitor = await monitors.get_monitor(session, auth, monitor_id)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidArgument(f"{name}: must carry a timezone (e.g. 2026-01-01T00:00:00Z)", field=name)
    rows, total = await results.list_results(
        session, monitor_id=monitor.id, region=region, since=since, until=until, limit=limit, offset=offset
    )
    return {
        "items": [
            {
                "id": row.id,
                "region": row.region,
                "trigger": row.trigger,
                "scheduledAt": row.scheduled_at.isoformat(),
                "outcome": row.outcome,
                "latency": row.latency_ms,
                "statusCode": row.status_code,
                "error": row.error,
                "attempts": row.attempts,
                "timing": row.timing,
                "headers": row.response_headers,
                "records": row.dns_records,
                "certificateExpiresAt": row.certificate_expires_at.isoformat()
                if row.certificate_expires_at
                else None,
            }
            for row in rows
        ],
        "totalSize": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{monitor_id}/summary", summary="Counts and latency percentiles over 1, 7 or 14 days")
async def monitor_summary(
    session: Session,
    auth: Auth,
    monitor_id: int,
    range: Annotated[str, Query(pattern="^(1d|7d|14d)$")] = "1d",
    region: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    monitor = await monitors.get_monitor(session, auth, monitor_id)
    since, until = results.summary_window(range, now=utcnow())
    summary = await results.monitor_summary(
        session, monitor_id=monitor.id, since=since, until=until, regions=region
    )
    return {
        "id": str(monitor.id),
        "timeRange": range,
        "regions": region or [],
        "totalSuccessful": summary.total_successful,
        "totalDegraded": summary.total_degraded,
        "totalFailed": summary.total_failed,
        "p50": summary.p50,
        "p75": summary.p75,
        "p90": summary.p90,
        "p95": summary.p95,
        "p99": summary.p99,
        "lastPingAt": summary.last_ping_at.isoformat() if summary.last_ping_at else None,
    }


@router.post("/{monitor_id}/run", summary="Run the monitor now in all its regions and wait for the results")
async def run_monitor(ctx: Ctx, session: Session, auth: Auth, monitor_id: int) -> dict[str, Any]:
    monitor = await monitors.get_monitor(session, auth, monitor_id)
    jobs, results = await runs.run(ctx.bus, monitor)
    regions = []
    for job in jobs:
        result = results.get(job.job_id)
        if result is None:
            regions.append({"region": job.region.value, "outcome": None, "error": "no result in time"})
        else:
            regions.append(result_out(result))
    return {"id": str(monitor.id), "results": regions}


@router.post(
    "/{monitor_id}/trigger",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a check now in all the monitor's regions",
)
async def trigger_monitor(ctx: Ctx, session: Session, auth: Auth, monitor_id: int) -> dict[str, Any]:
    monitor = await monitors.get_monitor(session, auth, monitor_id)
    jobs = await runs.trigger(ctx.bus, monitor)
    return {"success": True, "jobs": [{"region": job.region.value, "jobId": job.job_id} for job in jobs]}


def result_out(result: Any) -> dict[str, Any]:
    timing = result.timing.model_dump()
    return {
        "region": result.region.value,
        "outcome": result.outcome.value,
        "latency": round(result.latency_ms),
        "statusCode": result.status_code,
        "error": result.error,
        "attempts": result.attempts,
        "timing": {key.removesuffix("_ms"): value for key, value in timing.items()},
        "scheduledAt": result.scheduled_at.isoformat(),
        "headers": result.response_headers,
        "records": result.dns_records,
        "certificateExpiresAt": result.certificate_expires_at.isoformat()
        if result.certificate_expires_at
        else None,
    }
