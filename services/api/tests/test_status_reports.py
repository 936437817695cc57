"""Status reports: publish with a first update, the timeline (newest first) and resolvedAt, metadata
updates, filters, components of the report's page only, scopes and tenants, and the report events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.models import AuditLog

from .conftest import MakeKey
from .page_helpers import add_component, assert_error, create_page, events_in_stream, h

Sessions = async_sessionmaker[AsyncSession]


async def new_report(client: httpx.AsyncClient, key: str, page_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "API Degradation",
        "status": "investigating",
        "message": "Looking into it",
        "pageId": page_id,
    }
    response = await client.post("/v1/status-report", json={**body, **fields}, headers=h(key))
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_publish_then_update_until_resolved(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    component = await add_component(client, key, page["id"], type="static", name="API")
    report = await new_report(
        client,
        key,
        page["id"],
        pageComponentIds=[component["id"]],
        date="2026-03-01T12:00:00+01:00",
        notify=True,
    )
    assert (report["title"], report["status"], report["pageId"]) == (
        "API Degradation",
        "investigating",
        page["id"],
    )
    assert report["pageComponentIds"] == [component["id"]]
    assert report["resolvedAt"] is None
    [first] = report["updates"]
    assert (first["status"], first["message"], first["date"]) == (
        "investigating",
        "Looking into it",
        "2026-03-01T11:00:00Z",
    )

    [published] = await events_in_stream(bus, "report.published")
    assert published.event_id == f"report.published:{first['id']}"
    assert published.data == {
        "page_id": int(page["id"]),
        "report_id": int(report["id"]),
        "update_id": int(first["id"]),
        "notify": True,
    }

    path = f"/v1/status-report/{report['id']}/update"
    identified = await client.post(
        path, json={"status": "STATUS_REPORT_STATUS_IDENTIFIED", "message": "Cache"}, headers=h(key)
    )
    assert identified.status_code == 201, identified.text
    assert identified.json()["status"] == "identified"
    monitoring = await client.post(
        path, json={"status": "monitoring", "message": "Watching", "notify": False}, headers=h(key)
    )
    assert (monitoring.json()["status"], monitoring.json()["resolvedAt"]) == ("monitoring", None)
    resolved = await client.post(path, json={"status": "resolved", "message": "Fixed"}, headers=h(key))
    body = resolved.json()
    assert body["status"] == "resolved"
    assert body["resolvedAt"] == body["updates"][0]["date"]
    # Newest first (by date).
    assert [update["status"] for update in body["updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]

    updated = await events_in_stream(bus, "report.updated")
    assert len(updated) == 3
    assert {event.data["notify"] for event in updated} == {False}
    assert updated[0].event_id == f"report.updated:{updated[0].data['update_id']}"

    fetched = (await client.get(f"/v1/status-report/{report['id']}", headers=h(key))).json()
    assert fetched == resolved.json()
    async with sessions() as session:
        actions = (
            (await session.execute(select(AuditLog.action).where(AuditLog.entity_type == "status_report")))
            .scalars()
            .all()
        )
    assert list(actions) == ["status_report.create"] + ["status_report.add_update"] * 3


async def test_a_backdated_update_does_not_change_the_status(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    report = await new_report(client, key, page["id"], date="2026-03-01T12:00:00Z")
    path = f"/v1/status-report/{report['id']}/update"
    identified = await client.post(
        path,
        json={"status": "identified", "message": "Cache", "date": "2026-03-01T13:00:00Z"},
        headers=h(key),
    )
    assert identified.json()["status"] == "identified"
    # Filled in afterwards: an entry dated between the two. The newest entry still decides.
    backdated = await client.post(
        path,
        json={"status": "resolved", "message": "Old news", "date": "2026-03-01T12:30:00Z"},
        headers=h(key),
    )
    assert backdated.status_code == 201, backdated.text
    body = backdated.json()
    assert (body["status"], body["resolvedAt"]) == ("identified", None)
    assert [update["status"] for update in body["updates"]] == ["identified", "resolved", "investigating"]
    # An entry newer than all of them does.
    resolved = await client.post(
        path, json={"status": "resolved", "message": "Fixed", "date": "2026-03-01T14:00:00Z"}, headers=h(key)
    )
    assert (resolved.json()["status"], resolved.json()["resolvedAt"]) == ("resolved", "2026-03-01T14:00:00Z")
    # A backdated entry of a resolved report leaves it resolved.
    late = await client.post(
        path, json={"status": "monitoring", "message": "Late", "date": "2026-03-01T13:30:00Z"}, headers=h(key)
    )
    assert (late.json()["status"], late.json()["resolvedAt"]) == ("resolved", "2026-03-01T14:00:00Z")
    fetched = (await client.get(f"/v1/status-report/{report['id']}", headers=h(key))).json()
    assert (fetched["status"], fetched["resolvedAt"]) == ("resolved", "2026-03-01T14:00:00Z")


async def test_a_mistaken_update_can_be_removed(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key, reader, other = await make_key("acme"), await make_key("acme", ("read",)), await make_key("other")
    page = await create_page(client, key)
    report = await new_report(client, key, page["id"], date="2026-03-01T12:00:00Z")
    path = f"/v1/status-report/{report['id']}"
    resolved = await client.post(
        f"{path}/update",
        json={"status": "resolved", "message": "Fixed", "date": "2026-03-01T13:00:00Z"},
        headers=h(key),
    )
    assert resolved.json()["status"] == "resolved"
    mistaken = resolved.json()["updates"][0]["id"]
    before = len(await events_in_stream(bus, "page.changed"))

    for who, status in ((reader, 403), (other, 404)):
        assert_error(await client.delete(f"{path}/update/{mistaken}", headers=h(who)), status)
    removed = await client.delete(f"{path}/update/{mistaken}", headers=h(key))
    assert removed.status_code == 200, removed.text
    # The report takes the status of the newest entry left, and the page is refreshed (nobody is mailed).
    assert (removed.json()["status"], removed.json()["resolvedAt"]) == ("investigating", None)
    assert [u["status"] for u in removed.json()["updates"]] == ["investigating"]
    assert len(await events_in_stream(bus, "page.changed")) == before + 1
    assert_error(await client.delete(f"{path}/update/{mistaken}", headers=h(key)), 404, field="updateId")
    # The last entry stays: a report always has one.
    last = removed.json()["updates"][0]["id"]
    assert_error(await client.delete(f"{path}/update/{last}", headers=h(key)), 412, field="updateId")


async def test_a_report_created_resolved_is_resolved_at_its_date(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    report = await new_report(client, key, page["id"], status="resolved", date="2026-01-05T12:30:00Z")
    assert report["resolvedAt"] == "2026-01-05T12:30:00Z"


async def test_metadata_updates_and_deletion(client: httpx.AsyncClient, make_key: MakeKey, bus: Bus) -> None:
    key = await make_key()
    page = await create_page(client, key)
    first = await add_component(client, key, page["id"], type="static", name="A")
    second = await add_component(client, key, page["id"], type="static", name="B")
    report = await new_report(client, key, page["id"], pageComponentIds=[first["id"]])
    path = f"/v1/status-report/{report['id']}"
    before = len(await events_in_stream(bus, "page.changed"))

    patched = await client.patch(
        path, json={"title": "Slow API", "pageComponentIds": [second["id"], first["id"]]}, headers=h(key)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Slow API"
    assert patched.json()["pageComponentIds"] == sorted([first["id"], second["id"]], key=int)
    assert len(patched.json()["updates"]) == 1  # the timeline is untouched
    assert len(await events_in_stream(bus, "page.changed")) == before + 1
    cleared = await client.patch(path, json={"pageComponentIds": []}, headers=h(key))
    assert cleared.json()["pageComponentIds"] == []
    assert_error(await client.patch(path, json={"status": "resolved"}, headers=h(key)), 400, field="status")

    # Deleting a component removes it from the reports that named it.
    await client.patch(path, json={"pageComponentIds": [first["id"]]}, headers=h(key))
    await client.delete(f"/v1/page/{page['id']}/component/{first['id']}", headers=h(key))
    assert (await client.get(path, headers=h(key))).json()["pageComponentIds"] == []

    assert (await client.delete(path, headers=h(key))).json() == {"success": True}
    assert_error(await client.get(path, headers=h(key)), 404, field="id")
    [deleted] = await events_in_stream(bus, "report.deleted")
    assert deleted.event_id == f"report.deleted:{report['id']}"
    assert deleted.data == {"page_id": int(page["id"]), "report_id": int(report["id"])}


async def test_list_filters_by_status_and_page(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page, other = await create_page(client, key), await create_page(client, key, slug="other")
    open_report = await new_report(client, key, page["id"])
    done = await new_report(client, key, page["id"], status="resolved")
    elsewhere = await new_report(client, key, other["id"], status="monitoring")

    everything = (await client.get("/v1/status-report", headers=h(key))).json()
    assert [item["id"] for item in everything["items"]] == [elsewhere["id"], done["id"], open_report["id"]]
    assert everything["totalSize"] == 3 and "updates" not in everything["items"][0]

    async def ids(query: str) -> list[str]:
        response = await client.get(f"/v1/status-report?{query}", headers=h(key))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids("statuses=resolved") == [done["id"]]
    assert await ids("statuses=investigating&statuses=monitoring") == [elsewhere["id"], open_report["id"]]
    assert await ids("statuses=investigating,STATUS_REPORT_STATUS_RESOLVED") == [
        done["id"],
        open_report["id"],
    ]
    assert await ids(f"pageId={other['id']}") == [elsewhere["id"]]
    assert await ids("limit=1&offset=1") == [done["id"]]
    assert_error(await client.get("/v1/status-report?statuses=broken", headers=h(key)), 400, field="statuses")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "on-fire"}, "status"),
        ({"title": ""}, "title"),
        ({"message": ""}, "message"),
        ({"date": "2026-03-01T12:00:00"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"pageComponentIds": ["abc"]}, "pageComponentIds[0]"),
        ({"pageId": None}, "pageId"),
    ],
)
async def test_invalid_reports_name_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, fields: dict[str, Any], field: str
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    body = {"title": "T", "status": "investigating", "message": "M", "pageId": page["id"], **fields}
    response = await client.post("/v1/status-report", json=body, headers=h(key))
    assert_error(response, 400, field=field, code="invalid_argument")


async def test_components_must_belong_to_the_reports_page(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page, other = await create_page(client, key), await create_page(client, key, slug="other")
    mine = await add_component(client, key, page["id"], type="static", name="Mine")
    theirs = await add_component(client, key, other["id"], type="static", name="Theirs")
    body = {"title": "T", "status": "investigating", "message": "M", "pageId": page["id"]}
    response = await client.post(
        "/v1/status-report", json={**body, "pageComponentIds": [mine["id"], theirs["id"]]}, headers=h(key)
    )
    assert_error(response, 400, field="pageComponentIds[1]")
    report = await new_report(client, key, page["id"])
    patched = await client.patch(
        f"/v1/status-report/{report['id']}", json={"pageComponentIds": [theirs["id"]]}, headers=h(key)
    )
    assert_error(patched, 400, field="pageComponentIds[0]")


async def test_scopes_and_tenants(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key, reader, other = await make_key("acme"), await make_key("acme", ("read",)), await make_key("other")
    page = await create_page(client, key)
    report = await new_report(client, key, page["id"])
    path = f"/v1/status-report/{report['id']}"
    body = {"title": "T", "status": "investigating", "message": "M", "pageId": page["id"]}
    update = {"status": "resolved", "message": "Done"}
    assert_error(await client.post("/v1/status-report", json=body, headers=h(reader)), 403)
    assert_error(await client.patch(path, json={"title": "X"}, headers=h(reader)), 403)
    assert_error(await client.post(f"{path}/update", json=update, headers=h(reader)), 403)
    assert_error(await client.delete(path, headers=h(reader)), 403)
    assert (await client.get(path, headers=h(reader))).status_code == 200

    assert_error(await client.post("/v1/status-report", json=body, headers=h(other)), 404, field="pageId")
    assert_error(await client.get(path, headers=h(other)), 404)
    assert_error(await client.patch(path, json={"title": "X"}, headers=h(other)), 404)
    assert_error(await client.post(f"{path}/update", json=update, headers=h(other)), 404)
    assert_error(await client.delete(path, headers=h(other)), 404)
    assert (await client.get("/v1/status-report", headers=h(other))).json()["totalSize"] == 0
