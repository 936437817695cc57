"""The incident engine's decisions on both databases: results in, region states, incidents and events out."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from incident_engine.incidents import Applied, active_maintenance_for, apply_result
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import (
    EventOutbox,
    Incident,
    Maintenance,
    Monitor,
    MonitorRegionState,
    PageComponent,
    StatusPage,
    Workspace,
    maintenance_components,
)
from openstatus_common.messages import CheckResult, Event, MonitorAlert
from openstatus_common.vocab import CheckOutcome, Region

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
AMS, IAD, SYD = Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD
_ids = itertools.count(1)


async def make_monitor(
    sessions: Sessions, regions: tuple[Region, ...] = (AMS, IAD, SYD), **fields: Any
) -> Monitor:
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name="Acme", slug=f"acme-{next(_ids)}")
        session.add(workspace)
        await session.flush()
        monitor = Monitor(
            workspace_id=workspace.id,
            kind="http",
            name="API",
            url="https://api.example.com/health",
            periodicity="1m",
            active=True,
            regions=[region.value for region in regions],
            **fields,
        )
        session.add(monitor)
    return monitor


def result(
    monitor: Monitor,
    region: Region,
    minute: int,
    outcome: str = "error",
    *,
    error: str | None = None,
    trigger: str = "cron",
    status_code: int | None = None,
    latency_ms: float = 120.0,
) -> CheckResult:
    scheduled = T0 + minute * MINUTE
    failed = outcome == "error"
    return CheckResult(
        result_id=f"{monitor.id}:{region.value}:{minute}:{trigger}",
        job_id=f"{monitor.id}:{region.value}:{minute}",
        monitor_id=monitor.id,
        workspace_id=monitor.workspace_id,
        region=region,
        scheduled_at=scheduled,
        started_at=scheduled,
        finished_at=scheduled + timedelta(seconds=1),
        trigger=trigger,  # type: ignore[arg-type]
        outcome=CheckOutcome(outcome),
        latency_ms=latency_ms,
        status_code=status_code if status_code is not None else (None if failed else 200),
        error=(error or f"connection refused from {region.value}") if failed else None,
    )


async def apply(sessions: Sessions, *results: CheckResult) -> list[Applied]:
    applied = []
    for item in results:
        async with unit_of_work(sessions) as session:
            applied.append(await apply_result(session, item))
    return applied


async def staged_events(sessions: Sessions) -> list[Event]:
    async with sessions() as session:
        rows = (await session.execute(select(EventOutbox).order_by(EventOutbox.id))).scalars().all()
    return [Event.model_validate_json(row.payload) for row in rows]


async def incidents(sessions: Sessions, monitor: Monitor) -> list[Incident]:
    async with sessions() as session:
        query = select(Incident).where(Incident.monitor_id == monitor.id).order_by(Incident.id)
        return list((await session.execute(query)).scalars().all())


async def monitor_status(sessions: Sessions, monitor: Monitor) -> str:
    async with sessions() as session:
        return (await session.execute(select(Monitor.status).where(Monitor.id == monitor.id))).scalar_one()


async def region_rows(sessions: Sessions, monitor: Monitor) -> dict[str, MonitorRegionState]:
    async with sessions() as session:
        query = select(MonitorRegionState).where(MonitorRegionState.monitor_id == monitor.id)
        return {row.region: row for row in (await session.execute(query)).scalars()}


def kinds(events: list[Event]) -> list[str]:
    return [event.kind.value for event in events]


# --- quorum ------------------------------------------------------------------------------------------------


async def test_two_of_three_regions_failing_open_one_incident_with_one_alert(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(
        sessions,
        result(monitor, AMS, 0, "success"),
        result(monitor, IAD, 0, "success"),
        result(monitor, SYD, 0, "success"),
        result(monitor, AMS, 1, error="Connection refused"),
        result(monitor, IAD, 1, error="timeout after 45000 ms"),
        result(monitor, SYD, 1, "success"),
        # The outage goes on: no second incident, no second alert.
        result(monitor, AMS, 2),
        result(monitor, IAD, 2),
    )
    [incident] = await incidents(sessions, monitor)
    assert incident.status == "open"
    assert incident.started_at == T0 + MINUTE  # the first failing check's scheduled time
    assert incident.regions == ["ams", "iad"]
    assert incident.error_message == "timeout after 45000 ms"  # the check that crossed the quorum
    assert incident.cause is not None
    assert incident.cause["regionErrors"] == {"ams": "Connection refused", "iad": "timeout after 45000 ms"}
    assert incident.cause["quorum"] == 2
    assert await monitor_status(sessions, monitor) == "error"

    events = await staged_events(sessions)
    assert kinds(events) == ["monitor.error", "incident.opened"]
    alert_event, opened = events
    assert alert_event.event_id == f"{monitor.id}:monitor.error:iad:{int((T0 + MINUTE).timestamp() * 1000)}"
    assert alert_event.workspace_id == monitor.workspace_id
    alert = MonitorAlert.model_validate(alert_event.data)
    assert alert.webhook_payload() == {
        "monitor": {"id": monitor.id, "name": "API", "url": "https://api.example.com/health"},
        "cronTimestamp": int((T0 + MINUTE).timestamp() * 1000),
        "status": "error",
        "errorMessage": "timeout after 45000 ms",
    }
    assert alert.regions == ["ams", "iad"]
    assert alert.regionErrors == {"ams": "Connection refused", "iad": "timeout after 45000 ms"}
    assert alert.incidentId == incident.id
    assert alert.startedAt == T0 + MINUTE
    assert opened.event_id == f"{monitor.id}:incident.opened:{incident.id}"
    assert opened.data == {
        "incident_id": incident.id,
        "monitor_id": monitor.id,
        "monitor": {"id": monitor.id, "name": "API", "url": "https://api.example.com/health"},
        "status": "open",
        "started_at": (T0 + MINUTE).isoformat(),
        "resolved_at": None,
        "duration_s": None,
        "regions": ["ams", "iad"],
        "region_errors": {"ams": "Connection refused", "iad": "timeout after 45000 ms"},
        "error_message": "timeout after 45000 ms",
        "auto_resolved": False,
    }


async def test_one_of_three_failing_opens_nothing_but_shows_in_the_region_states(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    applied = await apply(
        sessions,
        result(monitor, AMS, 0, error="Connection refused"),
        result(monitor, IAD, 0, "success"),
        result(monitor, SYD, 0, "success"),
        result(monitor, AMS, 1, error="Connection refused"),
    )
    assert await incidents(sessions, monitor) == []
    assert await staged_events(sessions) == []
    assert await monitor_status(sessions, monitor) == "active"
    health = applied[-1].health
    assert health is not None
    assert health.failing_below_quorum == ("ams",)
    rows = await region_rows(sessions, monitor)
    assert rows["ams"].verdict == "error"
    assert rows["ams"].last_error == "Connection refused"
    assert rows["ams"].error_since == T0
    assert rows["ams"].error_streak == 2
    assert rows["iad"].verdict == "success"


async def test_recovery_resolves_the_incident_and_sends_recovered(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(sessions, result(monitor, AMS, 0), result(monitor, IAD, 0))
    await apply(
        sessions,
        result(monitor, AMS, 5, "success", status_code=200, latency_ms=87.4),
        result(monitor, IAD, 5, "success"),
    )
    [incident] = await incidents(sessions, monitor)
    assert incident.status == "resolved"
    assert incident.auto_resolved is True
    assert incident.resolved_at == T0 + 5 * MINUTE
    assert await monitor_status(sessions, monitor) == "active"

    events = await staged_events(sessions)
    assert kinds(events) == ["monitor.error", "incident.opened", "monitor.recovered", "incident.resolved"]
    recovered = MonitorAlert.model_validate(events[2].data)
    assert recovered.webhook_payload() == {
        "monitor": {"id": monitor.id, "name": "API", "url": "https://api.example.com/health"},
        "cronTimestamp": int((T0 + 5 * MINUTE).timestamp() * 1000),
        "status": "recovered",
        "statusCode": 200,
        "latency": 87,
    }
    assert recovered.incidentId == incident.id
    assert recovered.regions == ["ams", "iad"]
    assert events[3].event_id == f"{monitor.id}:incident.resolved:{incident.id}"
    assert events[3].data["duration_s"] == 300
    assert events[3].data["auto_resolved"] is True
    assert events[3].data["resolved_at"] == (T0 + 5 * MINUTE).isoformat()


async def test_single_region_monitor_fails_on_its_only_region(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions, regions=(AMS,))
    await apply(sessions, result(monitor, AMS, 0), result(monitor, AMS, 1, "success"))
    [incident] = await incidents(sessions, monitor)
    assert incident.status == "resolved"
    assert kinds(await staged_events(sessions)) == [
        "monitor.error",
        "incident.opened",
        "monitor.recovered",
        "incident.resolved",
    ]


async def test_a_region_failing_later_joins_the_open_incident(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(
        sessions,
        result(monitor, AMS, 0, error="refused"),
        result(monitor, IAD, 0, error="refused"),
        result(monitor, SYD, 0, error="reset by peer"),
    )
    [incident] = await incidents(sessions, monitor)
    assert incident.regions == ["ams", "iad", "syd"]
    assert incident.cause is not None
    assert incident.cause["regionErrors"]["syd"] == "reset by peer"
    assert kinds(await staged_events(sessions)) == ["monitor.error", "incident.opened"]


# --- idempotency ----------------------------------------------------------------------------------------


async def test_redelivered_and_late_results_change_nothing(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    feed = [
        result(monitor, AMS, 0),
        result(monitor, IAD, 0),
        result(monitor, AMS, 1),
        result(monitor, IAD, 1),
    ]
    await apply(sessions, *feed)
    before = await staged_events(sessions)
    applied = await apply(sessions, *feed, result(monitor, AMS, 0, "success"))  # again, and a late success
    assert all(item.stale for item in applied)
    assert await staged_events(sessions) == before
    assert len(await incidents(sessions, monitor)) == 1


async def test_concurrent_decisions_on_one_monitor_open_one_incident(sessions: Sessions) -> None:
    """Every region fails at once, each result in its own transaction: the monitor lock serializes them."""
    monitor = await make_monitor(sessions, regions=(AMS, IAD, SYD, Region.FLY_FRA))
    results = [result(monitor, region, 0) for region in (AMS, IAD, SYD, Region.FLY_FRA)]
    await asyncio.gather(*(apply(sessions, item) for item in results))
    assert len(await incidents(sessions, monitor)) == 1
    assert kinds(await staged_events(sessions)) == ["monitor.error", "incident.opened"]


async def test_on_demand_results_and_unknown_monitors_are_ignored(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions, regions=(AMS,))
    [on_demand] = await apply(sessions, result(monitor, AMS, 0, trigger="api"))
    assert on_demand.skipped == "on-demand"
    ghost = result(monitor, AMS, 1).model_copy(update={"monitor_id": 999_999})
    [unknown] = await apply(sessions, ghost)
    assert unknown.skipped == "unknown monitor"
    async with unit_of_work(sessions) as session:
        await session.execute(update(Monitor).where(Monitor.id == monitor.id).values(deleted_at=T0))
    [deleted] = await apply(sessions, result(monitor, AMS, 2))
    assert deleted.skipped == "unknown monitor"
    assert await incidents(sessions, monitor) == []
    assert await region_rows(sessions, monitor) == {}


# --- thresholds ---------------------------------------------------------------------------------------------


async def test_failure_threshold_waits_for_consecutive_failures_and_dates_the_first(
    sessions: Sessions,
) -> None:
    monitor = await make_monitor(sessions, regions=(AMS,), failure_threshold=3, success_threshold=2)
    await apply(sessions, result(monitor, AMS, 0), result(monitor, AMS, 1))
    assert await incidents(sessions, monitor) == []
    await apply(sessions, result(monitor, AMS, 2))
    [incident] = await incidents(sessions, monitor)
    assert incident.started_at == T0  # the first of the three failing checks
    await apply(sessions, result(monitor, AMS, 3, "success"))
    assert (await incidents(sessions, monitor))[0].status == "open"  # one success is not two
    await apply(sessions, result(monitor, AMS, 4, "success"))
    assert (await incidents(sessions, monitor))[0].status == "resolved"


async def test_flapping_target_alerts_with_defaults_but_not_with_thresholds(sessions: Sessions) -> None:
    calm = await make_monitor(sessions, regions=(AMS, IAD), failure_threshold=2, success_threshold=2)
    noisy = await make_monitor(sessions, regions=(AMS, IAD))
    for monitor in (calm, noisy):
        for minute in range(13):
            outcome = "error" if minute % 2 else "success"
            await apply(
                sessions, result(monitor, AMS, minute, outcome), result(monitor, IAD, minute, outcome)
            )
    by_monitor: dict[int | None, list[str]] = {}
    for event in await staged_events(sessions):
        by_monitor.setdefault(event.monitor_id, []).append(event.kind.value)
    assert calm.id not in by_monitor
    assert await incidents(sessions, calm) == []
    # Every real transition alerts: six outages, each opened and recovered.
    assert (
        by_monitor[noisy.id]
        == ["monitor.error", "incident.opened", "monitor.recovered", "incident.resolved"] * 6
    )
    assert len(await incidents(sessions, noisy)) == 6


# --- degraded -------------------------------------------------------------------------------------------------


async def test_degraded_changes_alert_and_show_but_open_no_incident(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(
        sessions,
        result(monitor, AMS, 0, "degraded", latency_ms=3200),
        result(monitor, IAD, 0, "degraded", latency_ms=2900),
    )
    assert await monitor_status(sessions, monitor) == "degraded"
    assert await incidents(sessions, monitor) == []
    await apply(sessions, result(monitor, AMS, 1, "success"), result(monitor, IAD, 1, "success"))
    assert await monitor_status(sessions, monitor) == "active"
    events = await staged_events(sessions)
    assert kinds(events) == ["monitor.degraded", "monitor.recovered"]
    degraded = MonitorAlert.model_validate(events[0].data)
    assert degraded.webhook_payload() == {
        "monitor": {"id": monitor.id, "name": "API", "url": "https://api.example.com/health"},
        "cronTimestamp": int(T0.timestamp() * 1000),
        "status": "degraded",
        "statusCode": 200,
        "latency": 2900,
    }
    assert degraded.regions == ["ams", "iad"]


async def test_outage_easing_to_degraded_resolves_the_incident(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(sessions, result(monitor, AMS, 0), result(monitor, IAD, 0))
    await apply(sessions, result(monitor, AMS, 1, "degraded"), result(monitor, IAD, 1, "degraded"))
    [incident] = await incidents(sessions, monitor)
    assert incident.status == "resolved"
    assert incident.resolved_at == T0 + MINUTE  # ams: out of error, one region short of the quorum
    assert await monitor_status(sessions, monitor) == "degraded"
    assert kinds(await staged_events(sessions)) == [
        "monitor.error",
        "incident.opened",
        "monitor.degraded",
        "incident.resolved",
    ]


# --- resolved by hand ---------------------------------------------------------------------------------------


async def test_resolved_by_hand_stays_resolved_until_the_next_outage(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions, regions=(AMS,))
    await apply(sessions, result(monitor, AMS, 0))
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Incident)
            .where(Incident.monitor_id == monitor.id)
            .values(status="resolved", resolved_at=T0 + MINUTE, auto_resolved=False)
        )
    await apply(sessions, result(monitor, AMS, 1), result(monitor, AMS, 2))  # still failing: no new incident
    assert len(await incidents(sessions, monitor)) == 1
    await apply(sessions, result(monitor, AMS, 3, "success"), result(monitor, AMS, 4))
    listed = await incidents(sessions, monitor)
    assert [item.status for item in listed] == ["resolved", "open"]
    assert listed[0].auto_resolved is False
    events = await staged_events(sessions)
    # The recovery alerts without an incident to resolve; the next outage opens a new one.
    assert kinds(events) == [
        "monitor.error",
        "incident.opened",
        "monitor.recovered",
        "monitor.error",
        "incident.opened",
    ]
    assert "incidentId" not in events[2].data


# --- maintenance ------------------------------------------------------------------------------------------


async def add_maintenance(sessions: Sessions, monitor: Monitor, starts: datetime, ends: datetime) -> None:
    async with unit_of_work(sessions) as session:
        page = StatusPage(workspace_id=monitor.workspace_id, title="Acme", slug=f"acme-{next(_ids)}")
        session.add(page)
        await session.flush()
        component = PageComponent(page_id=page.id, type="monitor", monitor_id=monitor.id, name="API")
        maintenance = Maintenance(
            workspace_id=monitor.workspace_id,
            page_id=page.id,
            title="DB upgrade",
            starts_at=starts,
            ends_at=ends,
        )
        session.add_all([component, maintenance])
        await session.flush()
        await session.execute(
            maintenance_components.insert().values(maintenance_id=maintenance.id, component_id=component.id)
        )


async def test_maintenance_window_covers_its_monitors_only(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    other = await make_monitor(sessions)
    await add_maintenance(sessions, monitor, T0, T0 + 10 * MINUTE)
    async with sessions() as session:
        assert await active_maintenance_for(session, monitor.id, T0) is True
        assert await active_maintenance_for(session, monitor.id, T0 + 9 * MINUTE) is True
        assert await active_maintenance_for(session, monitor.id, T0 + 10 * MINUTE) is False  # [start, end)
        assert await active_maintenance_for(session, monitor.id, T0 - MINUTE) is False
        assert await active_maintenance_for(session, other.id, T0) is False


async def test_maintenance_suppresses_incidents_and_alerts_then_catches_up(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await add_maintenance(sessions, monitor, T0, T0 + 10 * MINUTE)
    applied = await apply(sessions, result(monitor, AMS, 1), result(monitor, IAD, 1))
    assert applied[-1].decision is not None and applied[-1].decision.suppressed
    assert await incidents(sessions, monitor) == []
    assert await staged_events(sessions) == []
    assert await monitor_status(sessions, monitor) == "active"
    rows = await region_rows(sessions, monitor)
    assert rows["ams"].verdict == "error" and rows["ams"].suppressed  # recorded, and flagged
    assert rows["ams"].error_since == T0 + MINUTE

    # Still failing after the window: the next check opens the incident and alerts.
    await apply(sessions, result(monitor, AMS, 11))
    [incident] = await incidents(sessions, monitor)
    assert incident.started_at == T0 + MINUTE
    assert (await region_rows(sessions, monitor))["ams"].suppressed is False
    assert kinds(await staged_events(sessions)) == ["monitor.error", "incident.opened"]


async def test_recovery_during_maintenance_still_resolves(sessions: Sessions) -> None:
    monitor = await make_monitor(sessions)
    await apply(sessions, result(monitor, AMS, 0), result(monitor, IAD, 0))
    await add_maintenance(sessions, monitor, T0 + 5 * MINUTE, T0 + 10 * MINUTE)
    await apply(sessions, result(monitor, AMS, 6, "success"))
    [incident] = await incidents(sessions, monitor)
    assert incident.status == "resolved"
    assert kinds(await staged_events(sessions))[-2:] == ["monitor.recovered", "incident.resolved"]
