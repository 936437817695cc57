"""Incident verbs: list, get, acknowledge, resolve by hand; and a monitor's per-region states.

The incident engine opens and resolves incidents; people acknowledge them and may resolve them by hand.
A manual resolution stages ``incident.resolved`` (``auto_resolved`` false) in the event outbox within the
same transaction; the router publishes it after the commit, and if that fails the incident engine's outbox
sweep publishes it. The event id is the one the engine would use, so whichever resolution comes first is
the only one announced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.incidents.schemas import IncidentOut, IncidentStatus, RegionStateOut
from api.pagination import page_of
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import EventOutbox, Incident, Monitor, MonitorRegionState
from openstatus_common.errors import NotFound, PermissionDenied
from openstatus_common.messages import Event, EventKind

log = structlog.get_logger(__name__)


def _require_write(auth: AuthContext) -> None:
    if not auth.can_write:
        raise PermissionDenied("this API key is read-only")


async def list_incidents(
    session: AsyncSession,
    auth: AuthContext,
    *,
    monitor_id: int | None = None,
    status: IncidentStatus | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Incident], int]:
    """The workspace's incidents, newest first, optionally for one monitor and in one status."""
    conditions = [Incident.workspace_id == auth.workspace_id]
    if monitor_id is not None:
        conditions.append(Incident.monitor_id == monitor_id)
    if status is not None:
        conditions.append(Incident.status == status)

    return await page_of(
        session,
        Incident,
        conditions,
        (Incident.started_at.desc(), Incident.id.desc()),
        limit=limit,
        offset=offset,
    )


async def get_incident(session: AsyncSession, auth: AuthContext, incident_id: int) -> Incident:
    """The workspace's incident, or NotFound (also for another workspace's)."""
    incident = (
        await session.execute(
            select(Incident).where(Incident.id == incident_id, Incident.workspace_id == auth.workspace_id)
        )
    ).scalar_one_or_none()
    if incident is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    return incident


async def acknowledge_incident(session: AsyncSession, auth: AuthContext, incident_id: int) -> Incident:
    """Record that someone is on it. Idempotent: the first acknowledgement is kept."""
    _require_write(auth)
    incident = await get_incident(session, auth, incident_id)
    if incident.acknowledged_at is None:
        incident.acknowledged_at = utcnow()
        incident.acknowledged_by = f"apiKey:{auth.key_id}"
        await session.flush()
        audit.record(
            session, auth, action="incident.acknowledge", entity_type="incident", entity_id=incident.id
        )
    return incident


async def resolve_incident(
    session: AsyncSession, auth: AuthContext, incident_id: int
) -> tuple[Incident, list[Event]]:
    """Resolve an open incident by hand; returns it and the events to publish after the commit.

    Idempotent: an incident already resolved (by hand or by the engine) is returned unchanged, with no event.
    The monitor keeps its status; if it is still failing, a new incident opens only after it recovers.
    """
    _require_write(auth)
    incident = await get_incident(session, auth, incident_id)
    now = utcnow()
    # Conditional, so a resolution racing the engine's cannot be applied twice.
    changed = await session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == "open")
        .values(status="resolved", resolved_at=now, auto_resolved=False, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(incident)
    if getattr(changed, "rowcount", 0) != 1:
        return incident, []
    monitor = (await session.execute(select(Monitor).where(Monitor.id == incident.monitor_id))).scalar_one()
    event = Event(
        event_id=f"{monitor.id}:{EventKind.INCIDENT_RESOLVED.value}:{incident.id}",
        kind=EventKind.INCIDENT_RESOLVED,
        occurred_at=now,
        workspace_id=incident.workspace_id,
        monitor_id=monitor.id,
        data=incident_data(incident, monitor),
    )
    session.add(EventOutbox.from_event(event))
    await session.flush()
    audit.record(session, auth, action="incident.resolve", entity_type="incident", entity_id=incident.id)
    return incident, [event]


async def monitor_region_states(session: AsyncSession, monitor_id: int) -> list[RegionStateOut]:
    """Each of the monitor's regions as the incident engine last saw it, in the monitor's region order.

    Regions failing below the quorum show here with status ``error`` while the monitor stays active.
    The caller checks that the monitor belongs to the workspace.
    """
    regions = (
        await session.execute(select(Monitor.regions).where(Monitor.id == monitor_id))
    ).scalar_one_or_none()
    query = select(MonitorRegionState).where(MonitorRegionState.monitor_id == monitor_id)
    rows = {row.region: row for row in (await session.execute(query)).scalars()}
    return [_region_out(region, rows.get(region)) for region in regions or []]


def _region_out(region: str, row: MonitorRegionState | None) -> RegionStateOut:
    if row is None:
        return RegionStateOut(
            region=region,
            status="unknown",
            lastOutcome=None,
            lastCheckedAt=None,
            error=None,
            statusCode=None,
            latency=None,
            errorSince=None,
            consecutiveFailures=0,
            consecutiveSuccesses=0,
            suppressed=False,
        )
    return RegionStateOut(
        region=region,
        status=row.verdict,
        lastOutcome=row.last_outcome,
        lastCheckedAt=row.last_scheduled_at,
        error=row.last_error,
        statusCode=row.last_status_code,
        latency=row.last_latency_ms,
        errorSince=row.error_since,
        consecutiveFailures=row.error_streak,
        consecutiveSuccesses=row.success_streak,
        suppressed=row.suppressed,
    )


def incident_data(incident: Incident, monitor: Monitor) -> dict[str, Any]:
    """``Event.data`` of incident.* events; the same shape as the incident engine's."""
    cause = incident.cause or {}
    return {
        "incident_id": incident.id,
        "monitor_id": monitor.id,
        "monitor": {"id": monitor.id, "name": monitor.name, "url": monitor.url},
        "status": incident.status,
        "started_at": incident.started_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "duration_s": _duration(incident, incident.resolved_at or utcnow()),
        "regions": list(incident.regions),
        "region_errors": dict(cause.get("regionErrors", {})),
        "error_message": incident.error_message,
        "auto_resolved": incident.auto_resolved,
    }


def _duration(incident: Incident, until: datetime) -> int:
    return max(0, int((until - incident.started_at).total_seconds()))


def to_output(incident: Incident) -> IncidentOut:
    cause = incident.cause or {}
    return IncidentOut(
        id=str(incident.id),
        monitorId=str(incident.monitor_id),
        status="resolved" if incident.status == "resolved" else "open",
        startedAt=incident.started_at,
        resolvedAt=incident.resolved_at,
        durationS=_duration(incident, incident.resolved_at or utcnow()),
        autoResolved=incident.auto_resolved,
        acknowledgedAt=incident.acknowledged_at,
        acknowledgedBy=incident.acknowledged_by,
        regions=list(incident.regions),
        regionErrors=dict(cause.get("regionErrors", {})),
        errorMessage=incident.error_message,
        createdAt=incident.created_at,
        updatedAt=incident.updated_at,
    )
