"""Page components and groups: monitor and static components, the monitor rules of seed page 26, fixed
types, ordering, groups that ungroup their components when deleted, the legacy page fields, and events."""

from __future__ import annotations

import httpx
import pytest

from openstatus_common.bus import Bus

from .conftest import MakeKey
from .page_helpers import add_component, assert_error, create_monitor, create_page, events_in_stream, h


async def test_monitor_and_static_components(client: httpx.AsyncClient, make_key: MakeKey, bus: Bus) -> None:
    key = await make_key()
    page = await create_page(client, key)
    monitor = await create_monitor(client, key, name="prod-api-health-check")
    named = await add_component(client, key, page["id"], type="monitor", monitorId=monitor)
    assert named["name"] == "prod-api-health-check"  # the monitor's name by default
    assert (named["type"], named["monitorId"], named["pageId"]) == ("monitor", monitor, page["id"])
    assert (named["order"], named["groupId"], named["groupOrder"]) == (0, None, 0)
    static = await add_component(
        client, key, page["id"], type="PAGE_COMPONENT_TYPE_STATIC", name="Stripe", description="Payments"
    )
    assert (static["type"], static["monitorId"], static["order"]) == ("static", None, 1)

    listed = (await client.get(f"/v1/page/{page['id']}/component", headers=h(key))).json()
    assert [item["id"] for item in listed["items"]] == [named["id"], static["id"]]
    assert listed["totalSize"] == 2
    one = await client.get(f"/v1/page/{page['id']}/component/{static['id']}", headers=h(key))
    assert one.json() == static

    # The legacy fields list only monitor components; pageComponents lists them all.
    fetched = (await client.get(f"/v1/page/{page['id']}", headers=h(key))).json()
    assert fetched["monitorIds"] == [monitor]
    assert fetched["monitors"] == [int(monitor)]
    assert fetched["pageComponents"] == [named["id"], static["id"]]
    # Page created, two components added.
    assert len(await events_in_stream(bus, "page.changed")) == 3


@pytest.mark.parametrize(
    ("body", "status", "field", "says"),
    [
        ({"type": "monitor"}, 400, "monitorId", "required"),
        ({"type": "static"}, 400, "name", "required"),
        ({"type": "static", "name": "X", "monitorId": "1"}, 400, "monitorId", "only a monitor"),
        ({"type": "incident", "name": "X"}, 400, "type", "monitor"),
        ({"type": "static", "name": "x" * 257}, 400, "name", "at most 256"),
        ({"type": "static", "name": "X", "description": "x" * 1025}, 400, "description", "at most 1024"),
        ({"type": "monitor", "monitorId": "999999"}, 400, "monitorId", "not found"),
        ({"type": "static", "name": "X", "groupId": "999999"}, 400, "groupId", "not on this page"),
    ],
)
async def test_invalid_components_are_refused(
    client: httpx.AsyncClient, make_key: MakeKey, body: dict[str, object], status: int, field: str, says: str
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    response = await client.post(f"/v1/page/{page['id']}/component", json=body, headers=h(key))
    assert_error(response, status, field=field)
    assert says in response.json()["message"]


async def test_only_active_live_monitors_of_the_workspace_once_per_page(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key, other = await make_key("acme"), await make_key("other")
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}/component"
    monitor = await create_monitor(client, key)
    await add_component(client, key, page["id"], type="monitor", monitorId=monitor)
    twice = await client.post(path, json={"type": "monitor", "monitorId": monitor}, headers=h(key))
    assert_error(twice, 409, field="monitorId", code="already_exists")
    # Another page may show the same monitor.
    second = await create_page(client, key, slug="second")
    await add_component(client, key, second["id"], type="monitor", monitorId=monitor)

    paused = await create_monitor(client, key, name="Paused", active=False)
    inactive = await client.post(path, json={"type": "monitor", "monitorId": paused}, headers=h(key))
    assert_error(inactive, 400, field="monitorId")
    assert "not active" in inactive.json()["message"]

    deleted = await create_monitor(client, key, name="Gone")
    await client.delete(f"/v1/monitor/{deleted}", headers=h(key))
    gone = await client.post(path, json={"type": "monitor", "monitorId": deleted}, headers=h(key))
    assert_error(gone, 400, field="monitorId")

    foreign = await create_monitor(client, other, name="Theirs")
    theirs = await client.post(path, json={"type": "monitor", "monitorId": foreign}, headers=h(key))
    assert_error(theirs, 400, field="monitorId")
    assert "not found" in theirs.json()["message"]


async def test_updates_change_name_order_and_group_but_never_the_type(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    monitor = await create_monitor(client, key)
    component = await add_component(client, key, page["id"], type="monitor", monitorId=monitor)
    path = f"/v1/page/{page['id']}/component/{component['id']}"

    changed = await client.patch(
        path, json={"name": "API Server", "description": "Public API", "order": 5}, headers=h(key)
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["description"], changed.json()["order"]) == (
        "API Server",
        "Public API",
        5,
    )
    retype = await client.patch(path, json={"type": "static"}, headers=h(key))
    assert_error(retype, 400, field="type")
    assert "cannot change" in retype.json()["message"]
    assert (await client.patch(path, json={"type": "monitor"}, headers=h(key))).status_code == 200
    relink = await client.patch(path, json={"monitorId": "12345"}, headers=h(key))
    assert_error(relink, 400, field="monitorId")
    assert_error(await client.patch(path, json={"name": ""}, headers=h(key)), 400, field="name")

    other_page = await create_page(client, key, slug="other")
    foreign_group = (
        await client.post(f"/v1/page/{other_page['id']}/group", json={"name": "Theirs"}, headers=h(key))
    ).json()
    moved = await client.patch(path, json={"groupId": foreign_group["id"]}, headers=h(key))
    assert_error(moved, 400, field="groupId")


async def test_groups_order_components_and_release_them_when_deleted(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    base = f"/v1/page/{page['id']}"
    loose = await add_component(client, key, page["id"], type="static", name="CDN")
    created = await client.post(
        f"{base}/group", json={"name": "API Services", "defaultOpen": True}, headers=h(key)
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["name"], group["order"], group["defaultOpen"], group["componentIds"]) == (
        "API Services",
        1,
        True,
        [],
    )
    first = await add_component(client, key, page["id"], type="static", name="Auth", groupId=group["id"])
    second = await add_component(client, key, page["id"], type="static", name="Data", groupId=group["id"])
    assert (first["groupId"], first["groupOrder"], second["groupOrder"]) == (group["id"], 0, 1)
    moved = await client.patch(
        f"{base}/component/{loose['id']}", json={"groupId": group["id"]}, headers=h(key)
    )
    assert (moved.json()["groupId"], moved.json()["groupOrder"]) == (group["id"], 2)

    renamed = await client.patch(
        f"{base}/group/{group['id']}", json={"name": "APIs", "order": 9}, headers=h(key)
    )
    assert (renamed.json()["name"], renamed.json()["order"]) == ("APIs", 9)
    assert renamed.json()["componentIds"] == [first["id"], second["id"], loose["id"]]
    listed = (await client.get(f"{base}/group", headers=h(key))).json()
    assert [item["id"] for item in listed["items"]] == [group["id"]]
    assert_error(await client.post(f"{base}/group", json={"name": ""}, headers=h(key)), 400, field="name")

    ungrouped = await client.patch(f"{base}/component/{first['id']}", json={"groupId": None}, headers=h(key))
    assert ungrouped.json()["groupId"] is None

    assert (await client.delete(f"{base}/group/{group['id']}", headers=h(key))).json() == {"success": True}
    components = (await client.get(f"{base}/component", headers=h(key))).json()["items"]
    assert [item["groupId"] for item in components] == [None, None, None]
    assert_error(await client.get(f"{base}/group/{group['id']}", headers=h(key)), 404, field="groupId")


async def test_deleting_a_component_keeps_the_monitor(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(client, key)
    monitor = await create_monitor(client, key)
    component = await add_component(client, key, page["id"], type="monitor", monitorId=monitor)
    path = f"/v1/page/{page['id']}/component/{component['id']}"
    assert (await client.delete(path, headers=h(key))).json() == {"success": True}
    assert_error(await client.get(path, headers=h(key)), 404, field="componentId")
    assert (await client.get(f"/v1/monitor/{monitor}", headers=h(key))).status_code == 200
    assert (await client.get(f"/v1/page/{page['id']}", headers=h(key))).json()["monitorIds"] == []
    # It can be linked again.
    await add_component(client, key, page["id"], type="monitor", monitorId=monitor)


async def test_deleting_a_monitor_removes_its_components_from_every_page(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    """Pages stop showing a deleted monitor; the API must not keep listing (and editing) its components."""
    key = await make_key()
    first, second = (
        await create_page(client, key, slug="first"),
        await create_page(client, key, slug="second"),
    )
    monitor, other = await create_monitor(client, key), await create_monitor(client, key)
    for page in (first, second):
        await add_component(client, key, page["id"], type="monitor", monitorId=monitor)
    kept = await add_component(client, key, first["id"], type="monitor", monitorId=other)
    before = len(await events_in_stream(bus, "page.changed"))
    assert (await client.delete(f"/v1/monitor/{monitor}", headers=h(key))).status_code == 200
    listed = (await client.get(f"/v1/page/{first['id']}/component", headers=h(key))).json()
    assert [c["id"] for c in listed["items"]] == [kept["id"]]
    assert (await client.get(f"/v1/page/{second['id']}/component", headers=h(key))).json()["items"] == []
    assert (await client.get(f"/v1/page/{first['id']}", headers=h(key))).json()["monitorIds"] == [str(other)]
    # Both pages are refreshed.
    assert len(await events_in_stream(bus, "page.changed")) == before + 2


async def test_scopes_and_tenants(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key, reader, other = await make_key("acme"), await make_key("acme", ("read",)), await make_key("other")
    page = await create_page(client, key)
    base = f"/v1/page/{page['id']}"
    component = await add_component(client, key, page["id"], type="static", name="Stripe")
    group = (await client.post(f"{base}/group", json={"name": "G"}, headers=h(key))).json()
    for who, status in ((reader, 403), (other, 404)):
        assert_error(
            await client.post(f"{base}/component", json={"type": "static", "name": "X"}, headers=h(who)),
            status,
        )
        assert_error(
            await client.patch(f"{base}/component/{component['id']}", json={"name": "Y"}, headers=h(who)),
            status,
        )
        assert_error(await client.delete(f"{base}/component/{component['id']}", headers=h(who)), status)
        assert_error(await client.post(f"{base}/group", json={"name": "X"}, headers=h(who)), status)
        assert_error(
            await client.patch(f"{base}/group/{group['id']}", json={"name": "Y"}, headers=h(who)), status
        )
        assert_error(await client.delete(f"{base}/group/{group['id']}", headers=h(who)), status)
    assert (await client.get(f"{base}/component", headers=h(reader))).json()["totalSize"] == 1
    assert_error(await client.get(f"{base}/component", headers=h(other)), 404)
    assert_error(await client.get(f"{base}/group", headers=h(other)), 404)
    # A component id under another of the workspace's pages is not found either.
    second = await create_page(client, key, slug="second")
    assert_error(
        await client.get(f"/v1/page/{second['id']}/component/{component['id']}", headers=h(key)), 404
    )
