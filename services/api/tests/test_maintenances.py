"""Maintenances: windows that end after they start, partial updates that re-arm the reminder when the window
moves, components of the page only, filters, scopes and tenants, and the maintenance events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import Maintenance

from .conftest import MakeKey
from .page_helpers import add_component, assert_error, create_page, events_in_stream, h

Sessions = async_sessionmaker[AsyncSession]
WINDOW = {"from": "2090-04-01T10:00:00Z", "to": "2090-04-01T12:00:00Z"}


async def new_maintenance(client: httpx.AsyncClient, key: str, page_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "DB Migration",
        "message": "Upgrading the database",
        "pageId": page_id,
        **WINDOW,
        **fields,
    }
    response = await client.post("/v1/maintenance", json=body, headers=h(key))
    assert response.status_code == 201, response.text
    maintenance: dict[str, Any] = response.json()
    return maintenance


async def reminder_sent_at(sessions: Sessions, maintenance_id: str) -> datetime | None:
    async with sessions() as session:
        query = select(Maintenance.reminder_sent_at).where(Maintenance.id == int(maintenance_id))
        return (await session.execute(query)).scalar_one()


async def test_schedule_update_and_delete(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    component = await add_component(client, key, page["id"], type="static", name="Database")
    maintenance = await new_maintenance(
        client, key, page["id"], pageComponentIds=[component["id"]], notify=True
    )
    assert (maintenance["from"], maintenance["to"], maintenance["status"]) == (
        "2090-04-01T10:00:00Z",
        "2090-04-01T12:00:00Z",
        "scheduled",
    )
    assert (maintenance["title"], maintenance["message"], maintenance["pageId"]) == (
        "DB Migration",
        "Upgrading the database",
        page["id"],
    )
    assert maintenance["pageComponentIds"] == [component["id"]]
    [scheduled] = await events_in_stream(bus, "maintenance.scheduled")
    assert scheduled.event_id == f"maintenance.scheduled:{maintenance['id']}"
    assert scheduled.data == {
        "page_id": int(page["id"]),
        "maintenance_id": int(maintenance["id"]),
        "notify": True,
    }

    path = f"/v1/maintenance/{maintenance['id']}"
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Maintenance).values(reminder_sent_at=datetime(2090, 4, 1, 9, tzinfo=UTC))
        )
    retitled = await client.patch(path, json={"title": "Postgres 17", "pageComponentIds": []}, headers=h(key))
    assert retitled.status_code == 200, retitled.text
    assert (retitled.json()["title"], retitled.json()["pageComponentIds"]) == ("Postgres 17", [])
    assert retitled.json()["from"] == WINDOW["from"]
    assert await reminder_sent_at(sessions, maintenance["id"]) is not None  # the window did not move

    moved = await client.patch(path, json={"to": "2090-04-01T13:00:00+02:00", "notify": True}, headers=h(key))
    assert moved.json()["to"] == "2090-04-01T11:00:00Z"
    assert await reminder_sent_at(sessions, maintenance["id"]) is None

    updated = await events_in_stream(bus, "maintenance.updated")
    assert [event.data["notify"] for event in updated] == [False, True]
    assert updated[0].event_id.startswith(f"maintenance.updated:{maintenance['id']}:")

    assert (await client.get(path, headers=h(key))).json() == moved.json()
    assert (await client.delete(path, headers=h(key))).json() == {"success": True}
    assert_error(await client.get(path, headers=h(key)), 404, field="id")
    [deleted] = await events_in_stream(bus, "maintenance.deleted")
    assert deleted.data == {"page_id": int(page["id"]), "maintenance_id": int(maintenance["id"])}


async def test_notify_is_remembered_so_only_announced_maintenances_are_reminded(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    quiet = await new_maintenance(client, key, page["id"])
    assert quiet["notify"] is False
    path = f"/v1/maintenance/{quiet['id']}"
    assert (await client.patch(path, json={"title": "Still quiet"}, headers=h(key))).json()["notify"] is False
    announced = await client.patch(path, json={"message": "Now public", "notify": True}, headers=h(key))
    assert announced.json()["notify"] is True
    # A later change without notify does not take the announcement back.
    assert (await client.patch(path, json={"title": "Renamed", "notify": False}, headers=h(key))).json()[
        "notify"
    ] is True
    assert (await new_maintenance(client, key, page["id"], notify=True))["notify"] is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": "2090-04-01T10:00:00Z"}, "to"),
        ({"to": "2090-04-01T09:00:00Z"}, "to"),
        ({"from": "2090-04-01T10:00:00"}, "from"),
        ({"from": None}, "from"),
        ({"title": ""}, "title"),
        ({"message": ""}, "message"),
        ({"pageComponentIds": ["999999"]}, "pageComponentIds[0]"),
        ({"starts": "2090-04-01T10:00:00Z"}, "starts"),
    ],
)
async def test_invalid_maintenances_name_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, fields: dict[str, Any], field: str
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    body = {"title": "T", "message": "M", "pageId": page["id"], **WINDOW, **fields}
    response = await client.post("/v1/maintenance", json=body, headers=h(key))
    assert_error(response, 400, field=field, code="invalid_argument")


@pytest.mark.parametrize("value", ["tomorrow", "2090-04-01", "2090-04-01T10:00:00"])
async def test_a_time_that_is_not_a_full_timestamp_says_what_is_expected(
    client: httpx.AsyncClient, make_key: MakeKey, value: str
) -> None:
    """One message, whether pydantic or our own check refuses it: never "datetime or date", since a date
    alone is refused too."""
    key = await make_key()
    page = await create_page(client, key)
    body = {"title": "T", "message": "M", "pageId": page["id"], **WINDOW, "from": value}
    response = await client.post("/v1/maintenance", json=body, headers=h(key))
    assert_error(response, 400, field="from")
    assert response.json()["message"] == (
        "from: must be an RFC 3339 timestamp with a timezone, e.g. 2026-12-05T10:00:00Z"
    )


async def test_a_body_that_is_not_json_is_named_as_such(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    response = await client.post(
        "/v1/maintenance", content=b"not json", headers={**h(key), "content-type": "application/json"}
    )
    assert_error(response, 400, field="body", code="invalid_argument")
    assert response.json()["message"].startswith("body: not valid JSON")


async def test_a_patch_cannot_end_the_window_before_it_starts(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    maintenance = await new_maintenance(client, key, page["id"])
    path = f"/v1/maintenance/{maintenance['id']}"
    early = await client.patch(path, json={"to": "2090-04-01T10:00:00Z"}, headers=h(key))
    assert_error(early, 400, field="to")
    assert "end after it starts" in early.json()["message"]
    late = await client.patch(path, json={"from": "2090-04-01T12:30:00Z"}, headers=h(key))
    assert_error(late, 400, field="from")
    both = await client.patch(
        path, json={"from": "2090-05-01T10:00:00Z", "to": "2090-05-01T11:00:00Z"}, headers=h(key)
    )
    assert both.status_code == 200, both.text


async def test_list_filters_by_page_and_computes_status(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page, other = await create_page(client, key), await create_page(client, key, slug="other")
    past = await new_maintenance(
        client, key, page["id"], **{"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T01:00:00Z"}
    )
    ongoing = await new_maintenance(
        client, key, page["id"], **{"from": "2020-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"}
    )
    future = await new_maintenance(client, key, other["id"])
    assert (past["status"], ongoing["status"], future["status"]) == ("completed", "in_progress", "scheduled")
    everything = (await client.get("/v1/maintenance", headers=h(key))).json()
    assert everything["totalSize"] == 3
    assert [item["id"] for item in everything["items"]] == [future["id"], ongoing["id"], past["id"]]
    on_page = (await client.get(f"/v1/maintenance?pageId={page['id']}&limit=1", headers=h(key))).json()
    assert (on_page["totalSize"], [item["id"] for item in on_page["items"]]) == (2, [ongoing["id"]])


async def test_scopes_and_tenants(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key, reader, other = await make_key("acme"), await make_key("acme", ("read",)), await make_key("other")
    page = await create_page(client, key)
    maintenance = await new_maintenance(client, key, page["id"])
    path = f"/v1/maintenance/{maintenance['id']}"
    body = {"title": "T", "message": "M", "pageId": page["id"], **WINDOW}
    assert_error(await client.post("/v1/maintenance", json=body, headers=h(reader)), 403)
    assert_error(await client.patch(path, json={"title": "X"}, headers=h(reader)), 403)
    assert_error(await client.delete(path, headers=h(reader)), 403)
    assert (await client.get(path, headers=h(reader))).status_code == 200
    assert_error(await client.post("/v1/maintenance", json=body, headers=h(other)), 404, field="pageId")
    assert_error(await client.get(path, headers=h(other)), 404)
    assert_error(await client.patch(path, json={"title": "X"}, headers=h(other)), 404)
    assert_error(await client.delete(path, headers=h(other)), 404)
    assert (await client.get("/v1/maintenance", headers=h(other))).json()["totalSize"] == 0
