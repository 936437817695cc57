"""The monitors REST API: create, read, list, update, delete; validation naming the field; scopes; tenants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from openstatus_common.bus import Bus
from openstatus_common.messages import MONITORS_BUCKET, ScheduleEntry

from .conftest import MakeKey
from .page_helpers import events_in_stream

HTTP = {"name": "Homepage", "url": "https://example.com/health", "periodicity": "1m", "active": True}


def h(key: str) -> dict[str, str]:
    return {"x-openstatus-key": key}


async def create(client: httpx.AsyncClient, key: str, kind: str = "http", **fields: Any) -> httpx.Response:
    body = {**HTTP, **fields} if kind == "http" else fields
    return await client.post(f"/v1/monitor/{kind}", json=body, headers=h(key))


async def test_create_http_monitor_with_defaults(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    response = await create(client, key)
    assert response.status_code == 201, response.text
    monitor = response.json()
    assert monitor["kind"] == "http"
    assert monitor["id"].isdigit()
    assert monitor["method"] == "GET"
    assert monitor["timeout"] == 45000
    assert monitor["retry"] == 3
    assert monitor["followRedirects"] is True
    assert monitor["public"] is False
    assert monitor["regions"] == ["ams", "iad", "syd"]  # every served region when none are given
    assert monitor["status"] == "active"

    fetched = await client.get(f"/v1/monitor/{monitor['id']}", headers=h(key))
    assert fetched.status_code == 200
    assert fetched.json() == monitor


async def test_every_field_round_trips_in_any_enum_spelling(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    response = await create(
        client,
        key,
        periodicity="PERIODICITY_30S",
        method="HTTP_METHOD_POST",
        body="data:application/json;base64,eyJhIjoxfQ==",
        headers=[{"key": "Authorization", "value": "Bearer x"}],
        timeout="2000",
        retry=1,
        degradedAt=1000,
        followRedirects=False,
        regions=["fly-ams", "REGION_FLY_SYD"],
        description="checks the health endpoint",
        public=True,
        statusCodeAssertions=[{"comparator": "NUMBER_COMPARATOR_EQUAL", "target": "200"}],
        bodyAssertions=[{"comparator": "contains", "target": "ok"}],
        headerAssertions=[{"key": "content-type", "comparator": "not_eq", "target": "text/html"}],
        openTelemetry={
            "endpoint": "https://otlp.example.com/v1/metrics",
            "headers": [{"key": "x", "value": "y"}],
        },
    )
    assert response.status_code == 201, response.text
    monitor = response.json()
    assert monitor["periodicity"] == "30s"
    assert monitor["method"] == "POST"
    assert monitor["timeout"] == 2000
    assert monitor["regions"] == ["ams", "syd"]
    assert monitor["statusCodeAssertions"] == [{"comparator": "eq", "target": 200}]
    assert monitor["headerAssertions"] == [
        {"key": "content-type", "comparator": "neq", "target": "text/html"}
    ]
    assert monitor["openTelemetry"]["endpoint"] == "https://otlp.example.com/v1/metrics"


async def test_tcp_and_dns_monitors(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    tcp = await create(client, key, "tcp", name="db", uri="db.example.com:5432", periodicity="5m")
    assert tcp.status_code == 201, tcp.text
    assert tcp.json()["uri"] == "db.example.com:5432"
    dns = await create(
        client,
        key,
        "dns",
        name="dns",
        uri="example.com",
        periodicity="1h",
        recordAssertions=[{"record": "A", "comparator": "RECORD_COMPARATOR_CONTAINS", "target": "93.184"}],
    )
    assert dns.status_code == 201, dns.text
    assert dns.json()["recordAssertions"] == [{"record": "A", "comparator": "contains", "target": "93.184"}]
    generic = await client.post(
        "/v1/monitor",
        json={"kind": "tcp", "name": "x", "uri": "[::1]:22", "periodicity": "1m"},
        headers=h(key),
    )
    assert generic.status_code == 201, generic.text


@pytest.mark.parametrize(
    ("kind", "fields", "field", "fragment"),
    [
        ("http", {"name": ""}, "name", "at least 1 character"),
        ("http", {"name": "x" * 257}, "name", "at most 256"),
        ("http", {"url": "ftp://example.com"}, "url", "http:// or https://"),
        ("http", {"url": "https://example.com/" + "a" * 2048}, "url", "at most 2048"),
        ("http", {"periodicity": "2m"}, "periodicity", "expected one of: 30s, 1m, 5m, 10m, 30m, 1h"),
        ("http", {"method": "FETCH"}, "method", "invalid HTTP method"),
        ("http", {"timeout": 120001}, "timeout", "less than or equal to 120000"),
        ("http", {"retry": 11}, "retry", "less than or equal to 10"),
        ("http", {"regions": ["mars"]}, "regions[0]", "unknown region 'mars'"),
        ("http", {"regions": ["fra"]}, "regions", "served regions: ams, iad, syd"),
        ("http", {"headers": [{"key": "X-A", "value": "a\r\nInjected: 1"}]}, "headers[0].value", "CR, LF"),
        ("http", {"headers": [{"key": "Bad Name", "value": "a"}]}, "headers[0].key", "header name"),
        ("http", {"headers": [{"key": f"X-{i}", "value": "v"} for i in range(21)]}, "headers", "at most 20"),
        (
            "http",
            {"statusCodeAssertions": [{"comparator": "contains", "target": 200}]},
            "statusCodeAssertions[0].comparator",
            "not valid for statusCode",
        ),
        (
            "http",
            {"statusCodeAssertions": [{"comparator": "eq", "target": 99}]},
            "statusCodeAssertions[0].target",
            "greater than or equal to 100",
        ),
        (
            "http",
            {"bodyAssertions": [{"comparator": "eq", "target": "x"}] * 11},
            "bodyAssertions",
            "at most 10",
        ),
        ("http", {"body": "{}"}, "body", "is only sent with POST, PUT or PATCH"),
        ("http", {"method": "POST", "body": "data:text/plain;base64,%%%"}, "body", "not valid base64"),
        ("http", {"degradedAt": 50000}, "degradedAt", "lower than timeout"),
        ("http", {"unknownField": 1}, "unknownField", "Extra inputs"),
        ("tcp", {"name": "t", "uri": "db.example.com", "periodicity": "1m"}, "uri", "host:port"),
        ("tcp", {"name": "t", "uri": "db.example.com:70000", "periodicity": "1m"}, "uri", "1 to 65535"),
        ("dns", {"name": "d", "uri": "not a domain", "periodicity": "1m"}, "uri", "domain name"),
        (
            "dns",
            {
                "name": "d",
                "uri": "example.com",
                "periodicity": "1m",
                "recordAssertions": [{"record": "A", "comparator": "gt", "target": "1"}],
            },
            "recordAssertions[0].comparator",
            "not valid for record",
        ),
    ],
)
async def test_bad_input_is_400_naming_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, kind: str, fields: dict[str, Any], field: str, fragment: str
) -> None:
    key = await make_key()
    response = await create(client, key, kind, **fields)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_argument"
    assert body["field"] == field, body
    assert fragment in body["message"], body


async def test_list_is_paginated_with_a_total(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    for n in range(5):
        assert (await create(client, key, name=f"m{n}")).status_code == 201
    page = (await client.get("/v1/monitor?limit=2&offset=1", headers=h(key))).json()
    assert page["totalSize"] == 5
    assert [m["name"] for m in page["items"]] == ["m1", "m2"]
    assert (await client.get("/v1/monitor?limit=0", headers=h(key))).status_code == 400
    assert (await client.get("/v1/monitor?limit=101", headers=h(key))).status_code == 400
    assert (await client.get("/v1/monitor", headers=h(key))).json()["limit"] == 50
    huge = await client.get("/v1/monitor?offset=99999999999999999999999", headers=h(key))
    assert (huge.status_code, huge.json()["field"]) == (400, "offset")


async def test_partial_update_keeps_other_fields_and_validates(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    monitor = (await create(client, key, description="keep me", retry=5)).json()
    updated = await client.patch(
        f"/v1/monitor/{monitor['id']}", json={"name": "Renamed", "timeout": 3000}, headers=h(key)
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["timeout"], body["description"], body["retry"]) == (
        "Renamed",
        3000,
        "keep me",
        5,
    )
    bad = await client.patch(f"/v1/monitor/{monitor['id']}", json={"retry": 99}, headers=h(key))
    assert bad.status_code == 400
    assert bad.json()["field"] == "retry"
    assert (await client.get(f"/v1/monitor/{monitor['id']}", headers=h(key))).json()["retry"] == 5


async def test_delete_hides_the_monitor(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    monitor = (await create(client, key)).json()
    assert (await client.delete(f"/v1/monitor/{monitor['id']}", headers=h(key))).json() == {"success": True}
    assert (await client.get(f"/v1/monitor/{monitor['id']}", headers=h(key))).status_code == 404
    assert (await client.get("/v1/monitor", headers=h(key))).json()["totalSize"] == 0
    assert (await client.delete(f"/v1/monitor/{monitor['id']}", headers=h(key))).status_code == 404


async def test_read_key_cannot_mutate(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    writer = await make_key(scopes=("write",))
    reader = await make_key(scopes=("read",))
    monitor = (await create(client, writer)).json()
    assert (await client.get(f"/v1/monitor/{monitor['id']}", headers=h(reader))).status_code == 200
    denied = await create(client, reader)
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
    assert (
        await client.patch(f"/v1/monitor/{monitor['id']}", json={"name": "x"}, headers=h(reader))
    ).status_code == 403
    assert (await client.delete(f"/v1/monitor/{monitor['id']}", headers=h(reader))).status_code == 403


async def test_workspaces_never_see_each_other(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    acme = await make_key("acme")
    other = await make_key("other")
    monitor = (await create(client, acme)).json()
    assert (await client.get(f"/v1/monitor/{monitor['id']}", headers=h(other))).status_code == 404
    assert (
        await client.patch(f"/v1/monitor/{monitor['id']}", json={"name": "x"}, headers=h(other))
    ).status_code == 404
    assert (await client.delete(f"/v1/monitor/{monitor['id']}", headers=h(other))).status_code == 404
    assert (await client.get("/v1/monitor", headers=h(other))).json()["totalSize"] == 0


async def test_changes_reach_the_scheduler_bucket(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key = await make_key()
    kv = await bus.key_value(MONITORS_BUCKET)
    active = (await create(client, key, periodicity="30s")).json()
    entry = ScheduleEntry.model_validate_json((await kv.get(active["id"])).value or b"")
    assert entry.period_s == 30
    assert [r.value for r in entry.regions] == ["ams", "iad", "syd"]
    assert entry.target.url == HTTP["url"]

    await client.patch(f"/v1/monitor/{active['id']}", json={"active": False}, headers=h(key))
    with pytest.raises(Exception):  # noqa: B017 (nats-py raises KeyDeletedError or KeyNotFoundError)
        await kv.get(active["id"])

    paused = (await create(client, key, active=False)).json()
    with pytest.raises(Exception):  # noqa: B017
        await kv.get(paused["id"])


async def test_updates_and_deletes_tell_status_pages(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key = await make_key()
    monitor = (await create(client, key)).json()
    assert await events_in_stream(bus, "monitor.changed") == []  # a new monitor is on no page yet

    patched = await client.patch(f"/v1/monitor/{monitor['id']}", json={"name": "Renamed"}, headers=h(key))
    assert patched.status_code == 200, patched.text
    [changed] = await events_in_stream(bus, "monitor.changed")
    assert changed.monitor_id == int(monitor["id"])
    assert changed.event_id.startswith(f"monitor.changed:{monitor['id']}:")
    assert changed.data == {}

    # A refused change publishes nothing.
    refused = await client.patch(f"/v1/monitor/{monitor['id']}", json={"retry": 99}, headers=h(key))
    assert refused.status_code == 400
    assert len(await events_in_stream(bus, "monitor.changed")) == 1

    assert (await client.delete(f"/v1/monitor/{monitor['id']}", headers=h(key))).status_code == 200
    events = await events_in_stream(bus, "monitor.changed")
    assert [event.monitor_id for event in events] == [int(monitor["id"])] * 2
    assert len({event.event_id for event in events}) == 2
    assert {event.workspace_id for event in events} == {changed.workspace_id}
