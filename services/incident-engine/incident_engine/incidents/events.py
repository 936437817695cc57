"""The events the incident engine emits, with ids that are the same however often a decision is replayed.

- ``monitor.error`` / ``monitor.degraded`` / ``monitor.recovered``: ``data`` is a ``MonitorAlert`` (its first
  fields are the webhook payload). Id ``<monitor>:<kind>:<region>:<scheduled ms>`` of the check that caused
  the change: a region's check is applied once and changes the status at most once, so the id is unique.
- ``incident.opened`` / ``incident.resolved``: ``data`` is ``incident_data``. Id ``<monitor>:<kind>:<incident>``,
  the same whether the engine resolves the incident or a person does (JetStream keeps the first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openstatus_common.db.models import Incident, Monitor
from openstatus_common.messages import CheckResult, Event, EventKind, MonitorAlert, MonitorRef
from openstatus_common.rules.quorum import AlertStatus

ALERT_KINDS: dict[AlertStatus, EventKind] = {
    "error": EventKind.MONITOR_ERROR,
    "degraded": EventKind.MONITOR_DEGRADED,
    "recovered": EventKind.MONITOR_RECOVERED,
}


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def monitor_event_id(monitor_id: int, kind: EventKind, region: str, scheduled_at: datetime) -> str:
    return f"{monitor_id}:{kind.value}:{region}:{epoch_ms(scheduled_at)}"


def incident_event_id(monitor_id: int, kind: EventKind, incident_id: int) -> str:
    return f"{monitor_id}:{kind.value}:{incident_id}"


def monitor_ref(monitor: Monitor) -> MonitorRef:
    return MonitorRef(id=monitor.id, name=monitor.name, url=monitor.url)


def alert_event(
    monitor: Monitor,
    result: CheckResult,
    status: AlertStatus,
    *,
    regions: list[str],
    region_errors: dict[str, str],
    incident: Incident | None,
) -> Event:
    """A monitor alert caused by ``result``: ``cronTimestamp`` is that check's scheduled time."""
    failing = status == "error"
    alert = MonitorAlert(
        monitor=monitor_ref(monitor),
        cronTimestamp=epoch_ms(result.scheduled_at),
        status=status,
        statusCode=None if failing else result.status_code,
        latency=None if failing else round(result.latency_ms),
        errorMessage=(result.error or _first(region_errors) or "check failed") if failing else result.error,
        regions=regions,
        regionErrors=region_errors,
        incidentId=incident.id if incident is not None else None,
        startedAt=incident.started_at if incident is not None else None,
    )
    kind = ALERT_KINDS[status]
    return Event(
        event_id=monitor_event_id(monitor.id, kind, result.region.value, result.scheduled_at),
        kind=kind,
        occurred_at=result.finished_at,
        workspace_id=monitor.workspace_id,
        monitor_id=monitor.id,
        data=alert.model_dump(mode="json", exclude_none=True),
    )


def incident_data(incident: Incident, monitor: Monitor) -> dict[str, Any]:
    """``Event.data`` of incident.opened / incident.resolved."""
    duration = None
    if incident.resolved_at is not None:
        duration = int((incident.resolved_at - incident.started_at).total_seconds())
    cause = incident.cause or {}
    return {
        "incident_id": incident.id,
        "monitor_id": monitor.id,
        "monitor": monitor_ref(monitor).model_dump(),
        "status": incident.status,
        "started_at": incident.started_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "duration_s": duration,
        "regions": list(incident.regions),
        "region_errors": dict(cause.get("regionErrors", {})),
        "error_message": incident.error_message,
        "auto_resolved": incident.auto_resolved,
    }


def incident_event(kind: EventKind, incident: Incident, monitor: Monitor, *, occurred_at: datetime) -> Event:
    return Event(
        event_id=incident_event_id(monitor.id, kind, incident.id),
        kind=kind,
        occurred_at=occurred_at,
        workspace_id=monitor.workspace_id,
        monitor_id=monitor.id,
        data=incident_data(incident, monitor),
    )


def _first(region_errors: dict[str, str]) -> str | None:
    return next(iter(region_errors.values()), None)
