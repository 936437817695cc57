"""The incident engine's one verb: apply a check result to its monitor, in the caller's transaction.

``apply_result`` locks the monitor, folds the result into its region's state (``rules.quorum.observe``),
derives the monitor's status by quorum, and acts on the change: stores the status, opens or resolves the
incident, and stages the events in the outbox. All of it commits together or not at all, so a restart or a
redelivered result can never open a second incident: a result not newer than its region's last applied one
changes nothing.

Only scheduled (``cron``) results drive the status. On-demand runs (``api``) are recorded by the recorder but
ignored here: ``/run`` checks without the monitor's retries, at an off-schedule instant, possibly of a
paused monitor, and with the default failure threshold of 1 a single blip would page someone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from incident_engine.incidents import events as ev
from incident_engine.incidents.maintenance import active_maintenance_for
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import Incident, Monitor, MonitorRegionState
from openstatus_common.messages import CheckResult, Event, EventKind
from openstatus_common.outbox import stage
from openstatus_common.rules.quorum import (
    AlertStatus,
    Decision,
    MonitorHealth,
    Observation,
    RegionState,
    Thresholds,
    decide,
    evaluate,
    observe,
)
from openstatus_common.vocab import CheckOutcome, MonitorStatus

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Applied:
    """What ``apply_result`` did. ``skipped`` says why a result changed nothing (None: it was applied)."""

    skipped: str | None = None
    health: MonitorHealth | None = None
    decision: Decision | None = None
    in_maintenance: bool = False
    incident_id: int | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return self.skipped == "stale"


async def apply_result(session: AsyncSession, result: CheckResult) -> Applied:
    """Apply one result; flushes, never commits. Events are staged in the outbox, to publish after commit."""
    if result.trigger != "cron":
        return Applied(skipped="on-demand")
    locked = await lock_monitor(session, result.monitor_id)
    if locked is None:
        return Applied(skipped="unknown monitor")
    monitor, rows = locked
    region = result.region.value
    thresholds = Thresholds.of(monitor.quorum, monitor.failure_threshold, monitor.success_threshold)
    row = rows.get(region)
    state = observe(to_state(row) if row is not None else None, observation(result), thresholds)
    if state is None:
        return Applied(skipped="stale")
    if row is None:
        row = MonitorRegionState(monitor_id=monitor.id, region=region)
        session.add(row)
        rows[region] = row

    states = {name: to_state(item) for name, item in rows.items() if name != region}
    states[region] = state
    health = evaluate(states, monitor.regions, thresholds)
    previous = _status(monitor.status)
    # A maintenance window only matters to an impaired region or a change of status: skip the query otherwise.
    in_maintenance = False
    if state.verdict is not CheckOutcome.SUCCESS or health.status is not previous:
        in_maintenance = await active_maintenance_for(session, monitor.id, result.scheduled_at)
    write_state(row, state, suppressed=in_maintenance)
    decision = decide(previous, health.status, in_maintenance=in_maintenance)
    if decision.suppressed:
        log.info(
            "incidents.suppressed_by_maintenance",
            monitor_id=monitor.id,
            status=previous.value,
            evaluated=health.status.value,
        )
    if decision.status is not previous:
        # A status change is not a configuration change: leave updated_at (the scheduler watches it) alone.
        await session.execute(
            update(Monitor)
            .where(Monitor.id == monitor.id)
            .values(status=decision.status.value, updated_at=Monitor.updated_at)
            .execution_options(synchronize_session=False)
        )

    incident = None
    if decision.status is MonitorStatus.ERROR or decision.resolves_incident:
        incident = await _open_incident(session, monitor.id)
    alert = decision.alert
    staged: list[Event] = []
    if decision.opens_incident and alert is not None:
        incident, opened = await _open(session, monitor, result, health, states, incident)
        staged.append(_alert(alert, monitor, result, health, states, incident))
        if opened:
            staged.append(_incident_event(EventKind.INCIDENT_OPENED, incident, monitor, result))
    elif decision.resolves_incident and alert is not None:
        resolved = await _resolve(session, incident, result.scheduled_at) if incident is not None else None
        staged.append(_alert(alert, monitor, result, health, states, incident))
        if resolved is not None:
            staged.append(_incident_event(EventKind.INCIDENT_RESOLVED, resolved, monitor, result))
    else:
        if alert is not None:
            staged.append(_alert(alert, monitor, result, health, states, None))
        if incident is not None:
            _widen(incident, health, states)
    stage(session, staged)
    await session.flush()
    return Applied(
        health=health,
        decision=decision,
        in_maintenance=in_maintenance,
        incident_id=incident.id if incident is not None else None,
        events=staged,
    )


async def lock_monitor(
    session: AsyncSession, monitor_id: int
) -> tuple[Monitor, dict[str, MonitorRegionState]] | None:
    """Load a live monitor and its region states, holding the monitor's lock until the transaction ends.

    One result decides at a time per monitor. PostgreSQL: ``SELECT ... FOR UPDATE`` on the monitor row (two
    engine replicas serialize on it; the partial unique index on open incidents is the last guard). SQLite
    locks the whole database, and only at the first write, so the transaction starts with a no-op write.
    Either way the lock is taken by a statement of its own, before the states are read: a statement that
    waited for the lock still reads from the snapshot it started with, which misses what the previous
    holder committed. None for an unknown or deleted monitor.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("UPDATE monitors SET status = status WHERE id = :id"), {"id": monitor_id})
    else:
        await session.execute(select(Monitor.id).where(Monitor.id == monitor_id).with_for_update())
    query = (
        select(Monitor, MonitorRegionState)
        .outerjoin(MonitorRegionState, MonitorRegionState.monitor_id == Monitor.id)
        .where(Monitor.id == monitor_id)
    )
    found = (await session.execute(query)).all()
    if not found or found[0][0].deleted_at is not None:
        return None
    return found[0][0], {row.region: row for _, row in found if row is not None}


def observation(result: CheckResult) -> Observation:
    return Observation(
        region=result.region.value,
        scheduled_at=result.scheduled_at,
        outcome=result.outcome,
        error=result.error,
        status_code=result.status_code,
        latency_ms=round(result.latency_ms),
    )


def to_state(row: MonitorRegionState) -> RegionState:
    return RegionState(
        region=row.region,
        verdict=CheckOutcome(row.verdict),
        last_outcome=CheckOutcome(row.last_outcome) if row.last_outcome else None,
        last_scheduled_at=row.last_scheduled_at,
        last_error=row.last_error,
        last_status_code=row.last_status_code,
        last_latency_ms=row.last_latency_ms,
        error_streak=row.error_streak,
        impaired_streak=row.impaired_streak,
        available_streak=row.available_streak,
        success_streak=row.success_streak,
        error_streak_since=row.error_streak_since,
        error_since=row.error_since,
    )


def write_state(row: MonitorRegionState, state: RegionState, *, suppressed: bool) -> None:
    row.verdict = state.verdict.value
    row.last_outcome = state.last_outcome.value if state.last_outcome else None
    row.last_scheduled_at = state.last_scheduled_at
    row.last_error = state.last_error
    row.last_status_code = state.last_status_code
    row.last_latency_ms = state.last_latency_ms
    row.error_streak = state.error_streak
    row.impaired_streak = state.impaired_streak
    row.available_streak = state.available_streak
    row.success_streak = state.success_streak
    row.error_streak_since = state.error_streak_since
    row.error_since = state.error_since
    row.suppressed = suppressed
    row.updated_at = utcnow()


def _status(value: str) -> MonitorStatus:
    try:
        return MonitorStatus(value)
    except ValueError:
        return MonitorStatus.ACTIVE


def _region_errors(regions: tuple[str, ...], states: dict[str, RegionState]) -> dict[str, str]:
    return {region: error for region in regions if (error := states[region].last_error)}


async def _open_incident(session: AsyncSession, monitor_id: int) -> Incident | None:
    query = select(Incident).where(Incident.monitor_id == monitor_id, Incident.status == "open")
    return (await session.execute(query)).scalar_one_or_none()


async def _open(
    session: AsyncSession,
    monitor: Monitor,
    result: CheckResult,
    health: MonitorHealth,
    states: dict[str, RegionState],
    existing: Incident | None,
) -> tuple[Incident, bool]:
    """Open the outage's incident; an incident already open (from a person's edit) is kept, not doubled."""
    if existing is not None:
        _widen(existing, health, states)
        return existing, False
    region_errors = _region_errors(health.error_regions, states)
    cause: dict[str, Any] = {
        "regionErrors": region_errors,
        "quorum": health.quorum,
        "regionsTotal": health.regions_total,
        "trigger": {
            "region": result.region.value,
            "resultId": result.result_id,
            "cronTimestamp": ev.epoch_ms(result.scheduled_at),
        },
    }
    incident = Incident(
        workspace_id=monitor.workspace_id,
        monitor_id=monitor.id,
        status="open",
        started_at=health.started_at or result.scheduled_at,
        regions=list(health.error_regions),
        error_message=result.error or next(iter(region_errors.values()), None),
        cause=cause,
    )
    session.add(incident)
    await session.flush()
    log.info("incidents.opened", monitor_id=monitor.id, incident_id=incident.id, regions=incident.regions)
    return incident, True


def _widen(incident: Incident, health: MonitorHealth, states: dict[str, RegionState]) -> None:
    """Regions that start failing during an outage join its incident, with their errors."""
    new = [region for region in health.error_regions if region not in incident.regions]
    if not new:
        return
    incident.regions = [*incident.regions, *new]
    cause = dict(incident.cause or {})
    cause["regionErrors"] = {**cause.get("regionErrors", {}), **_region_errors(tuple(new), states)}
    incident.cause = cause


async def _resolve(session: AsyncSession, incident: Incident, at: datetime) -> Incident | None:
    """Resolve automatically; None when someone resolved it by hand meanwhile (the first resolution wins)."""
    resolved_at = max(at, incident.started_at)
    changed = await session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == "open")
        .values(status="resolved", resolved_at=resolved_at, auto_resolved=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        return None
    await session.refresh(incident)
    log.info("incidents.resolved", monitor_id=incident.monitor_id, incident_id=incident.id)
    return incident


def _incident_event(kind: EventKind, incident: Incident, monitor: Monitor, result: CheckResult) -> Event:
    return ev.incident_event(kind, incident, monitor, occurred_at=result.finished_at)


def _alert(
    status: AlertStatus,
    monitor: Monitor,
    result: CheckResult,
    health: MonitorHealth,
    states: dict[str, RegionState],
    incident: Incident | None,
) -> Event:
    if status == "error":
        regions = list(health.error_regions)
    elif status == "degraded":
        regions = [*health.error_regions, *health.degraded_regions]
    else:
        regions = list(incident.regions) if incident is not None else []
    region_errors = _region_errors(tuple(r for r in regions if r in states), states)
    return ev.alert_event(
        monitor, result, status, regions=regions, region_errors=region_errors, incident=incident
    )
