"""The incidents REST API (list, get, acknowledge, resolve), monitor incident rules, per-region states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.incidents.service import monitor_region_states
from openstatus_common.bus import Bus, StreamName
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import AuditLog, EventOutbox, Incident, Monitor, MonitorRegionState
from openstatus_common.messages import Event, EventKind

from .conftest import MakeKey

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HTTP = {"name": "Checkout", "url": "https://shop.example.com", "periodicity": "1m", "active": True}


def h(key: str) -> dict[str, str]:
    return {"x-openstatus-key": key}


async def create_monitor(client: httpx.AsyncClient, key: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/monitor/http", json={**HTTP, **fields}, headers=h(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_incident(
    sessions: Sessions,
    monitor: dict[str, Any],
    *,
    started: datetime = T0,
    resolved: datetime | None = None,
    workspace_id: int | None = None,
) -> int:
    async with unit_of_work(sessions) as session:
        if workspace_id is None:
            row = (
                await session.execute(select(Monitor).where(Monitor.id == int(monitor["id"])))
            ).scalar_one()
            workspace_id = row.workspace_id
        incident = Incident(
            workspace_id=workspace_id,
            monitor_id=int(monitor["id"]),
            status="resolved" if resolved else "open",
            started_at=started,
            resolved_at=resolved,
            auto_resolved=resolved is not None,
            regions=["ams", "iad"],
            error_message="Connection refused",
            cause={"regionErrors": {"ams": "Connection refused", "iad": "timeout"}},
        )
        session.add(incident)
        await session.flush()
        return incident.id


async def events_in_stream(bus: Bus) -> list[Event]:
    state = (await bus.js.stream_info(StreamName.EVENTS.value)).state
    if not state.messages:
        return []
    found = []
    for sequence in range(state.first_seq, state.last_seq + 1):
        message = await bus.js.get_msg(StreamName.EVENTS.value, sequence)
        found.append(Event.model_validate_json(message.data or b""))
    return found


async def test_list_and_get_incidents_with_filters(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    api = await create_monitor(client, key)
    web = await create_monitor(client, key, name="Web")
    old = await add_incident(sessions, api, started=T0, resolved=T0 + timedelta(minutes=7))
    current = await add_incident(sessions, api, started=T0 + timedelta(hours=1))
    other = await add_incident(sessions, web, started=T0 + timedelta(hours=2))

    listed = await client.get("/v1/incident", headers=h(key))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["totalSize"] == 3
    assert [item["id"] for item in body["items"]] == [str(other), str(current), str(old)]  # newest first

    by_monitor = await client.get("/v1/incident", params={"monitorId": api["id"]}, headers=h(key))
    assert [item["id"] for item in by_monitor.json()["items"]] == [str(current), str(old)]
    open_only = await client.get(
        "/v1/incident", params={"monitorId": api["id"], "status": "open"}, headers=h(key)
    )
    assert [item["id"] for item in open_only.json()["items"]] == [str(current)]
    resolved = await client.get("/v1/incident", params={"status": "resolved"}, headers=h(key))
    assert [item["id"] for item in resolved.json()["items"]] == [str(old)]
    page = await client.get("/v1/incident", params={"limit": 1, "offset": 1}, headers=h(key))
    assert page.json()["totalSize"] == 3
    assert [item["id"] for item in page.json()["items"]] == [str(current)]
    bad = await client.get("/v1/incident", params={"status": "closed"}, headers=h(key))
    assert bad.status_code == 400

    fetched = await client.get(f"/v1/incident/{old}", headers=h(key))
    assert fetched.status_code == 200
    incident = fetched.json()
    assert incident == {
        "id": str(old),
        "monitorId": api["id"],
        "status": "resolved",
        "startedAt": "2026-03-01T12:00:00Z",
        "resolvedAt": "2026-03-01T12:07:00Z",
        "durationS": 420,
        "autoResolved": True,
        "acknowledgedAt": None,
        "acknowledgedBy": None,
        "regions": ["ams", "iad"],
        "regionErrors": {"ams": "Connection refused", "iad": "timeout"},
        "errorMessage": "Connection refused",
        "createdAt": incident["createdAt"],
        "updatedAt": incident["updatedAt"],
    }
    missing = await client.get("/v1/incident/999999", headers=h(key))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


async def test_workspaces_see_only_their_incidents(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    mine = await make_key("acme")
    theirs = await make_key("globex")
    monitor = await create_monitor(client, mine)
    incident = await add_incident(sessions, monitor)
    assert (await client.get(f"/v1/incident/{incident}", headers=h(theirs))).status_code == 404
    assert (await client.get("/v1/incident", headers=h(theirs))).json()["totalSize"] == 0
    assert (await client.post(f"/v1/incident/{incident}/acknowledge", headers=h(theirs))).status_code == 404
    assert (await client.post(f"/v1/incident/{incident}/resolve", headers=h(theirs))).status_code == 404
    assert (await client.get("/v1/incident")).status_code == 401


async def test_acknowledge_needs_write_and_keeps_the_first(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    reader = await make_key(scopes=("read",))
    monitor = await create_monitor(client, key)
    incident = await add_incident(sessions, monitor)

    denied = await client.post(f"/v1/incident/{incident}/acknowledge", headers=h(reader))
    assert denied.status_code == 403
    first = await client.post(f"/v1/incident/{incident}/acknowledge", headers=h(key))
    assert first.status_code == 200, first.text
    acknowledged = first.json()
    assert acknowledged["acknowledgedAt"] is not None
    assert acknowledged["acknowledgedBy"].startswith("apiKey:")
    assert acknowledged["status"] == "open"
    again = await client.post(f"/v1/incident/{incident}/acknowledge", headers=h(key))
    assert again.json()["acknowledgedAt"] == acknowledged["acknowledgedAt"]
    async with sessions() as session:
        actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert actions.count("incident.acknowledge") == 1


async def test_resolve_by_hand_publishes_one_event(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    reader = await make_key(scopes=("read",))
    monitor = await create_monitor(client, key)
    incident = await add_incident(sessions, monitor)

    assert (await client.post(f"/v1/incident/{incident}/resolve", headers=h(reader))).status_code == 403
    response = await client.post(f"/v1/incident/{incident}/resolve", headers=h(key))
    assert response.status_code == 200, response.text
    resolved = response.json()
    assert resolved["status"] == "resolved"
    assert resolved["autoResolved"] is False
    assert resolved["resolvedAt"] is not None
    again = await client.post(f"/v1/incident/{incident}/resolve", headers=h(key))
    assert again.status_code == 200
    assert again.json()["resolvedAt"] == resolved["resolvedAt"]  # idempotent

    [event] = await events_in_stream(bus)
    assert event.kind is EventKind.INCIDENT_RESOLVED
    assert event.event_id == f"{monitor['id']}:incident.resolved:{incident}"
    assert event.monitor_id == int(monitor["id"])
    assert event.data["incident_id"] == incident
    assert event.data["auto_resolved"] is False
    assert event.data["monitor"] == {
        "id": int(monitor["id"]),
        "name": "Checkout",
        "url": "https://shop.example.com",
    }
    assert event.data["regions"] == ["ams", "iad"]
    assert event.data["duration_s"] > 0
    async with sessions() as session:
        assert (await session.execute(select(EventOutbox))).first() is None  # published, so unstaged


async def test_monitor_incident_rules_round_trip_and_validate(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    monitor = await create_monitor(client, key)
    assert (monitor["quorum"], monitor["failureThreshold"], monitor["successThreshold"]) == (None, None, None)

    tuned = await create_monitor(client, key, quorum=2, failureThreshold="3", successThreshold=2)
    assert (tuned["quorum"], tuned["failureThreshold"], tuned["successThreshold"]) == (2, 3, 2)
    patched = await client.patch(f"/v1/monitor/{tuned['id']}", json={"failureThreshold": 5}, headers=h(key))
    assert patched.status_code == 200, patched.text
    assert (patched.json()["quorum"], patched.json()["failureThreshold"]) == (2, 5)
    back_to_default = await client.patch(f"/v1/monitor/{tuned['id']}", json={"quorum": None}, headers=h(key))
    assert back_to_default.json()["quorum"] is None

    for field, value in (("quorum", 0), ("failureThreshold", 0), ("successThreshold", 101), ("quorum", 29)):
        response = await client.post("/v1/monitor/http", json={**HTTP, field: value}, headers=h(key))
        assert response.status_code == 400, (field, value)
        assert response.json()["field"] == field


async def test_monitor_region_states_show_every_region(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    monitor = await create_monitor(client, key, regions=["ams", "iad", "syd"])
    async with unit_of_work(sessions) as session:
        session.add_all(
            [
                MonitorRegionState(
                    monitor_id=int(monitor["id"]),
                    region="ams",
                    verdict="error",
                    last_outcome="error",
                    last_scheduled_at=T0,
                    last_error="Connection refused",
                    error_streak=2,
                    impaired_streak=2,
                    error_streak_since=T0 - timedelta(minutes=1),
                    error_since=T0 - timedelta(minutes=1),
                    suppressed=True,
                ),
                MonitorRegionState(
                    monitor_id=int(monitor["id"]),
                    region="iad",
                    verdict="success",
                    last_outcome="success",
                    last_scheduled_at=T0,
                    last_status_code=200,
                    last_latency_ms=87,
                    success_streak=4,
                    available_streak=4,
                ),
            ]
        )
    async with sessions() as session:
        states = await monitor_region_states(session, int(monitor["id"]))
    assert [(s.region, s.status) for s in states] == [
        ("ams", "error"),
        ("iad", "success"),
        ("syd", "unknown"),
    ]
    ams, iad, _ = states
    assert ams.error == "Connection refused"
    assert ams.errorSince == T0 - timedelta(minutes=1)
    assert ams.consecutiveFailures == 2
    assert ams.suppressed is True
    assert (iad.statusCode, iad.latency, iad.consecutiveSuccesses) == (200, 87, 4)
