"""Helpers for the status page API tests: create pages and monitors, read the events published."""

from __future__ import annotations

from typing import Any

import httpx

from openstatus_common.bus import Bus, StreamName
from openstatus_common.messages import Event


def h(key: str) -> dict[str, str]:
    return {"x-openstatus-key": key}


async def create_page(client: httpx.AsyncClient, key: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Acme Status", "slug": "acme", **fields}
    response = await client.post("/v1/page", json=body, headers=h(key))
    assert response.status_code == 201, response.text
    page: dict[str, Any] = response.json()
    return page


async def create_monitor(client: httpx.AsyncClient, key: str, name: str = "API", active: bool = True) -> str:
    body = {"name": name, "url": "https://example.com", "periodicity": "1m", "active": active}
    response = await client.post("/v1/monitor/http", json=body, headers=h(key))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def add_component(client: httpx.AsyncClient, key: str, page_id: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/page/{page_id}/component", json=fields, headers=h(key))
    assert response.status_code == 201, response.text
    component: dict[str, Any] = response.json()
    return component


async def events_in_stream(bus: Bus, kind: str | None = None) -> list[Event]:
    """Every event stored on the EVENTS stream (of one kind), oldest first."""
    state = (await bus.js.stream_info(StreamName.EVENTS.value)).state
    found: list[Event] = []
    if not state.messages:
        return found
    for sequence in range(state.first_seq, state.last_seq + 1):
        message = await bus.js.get_msg(StreamName.EVENTS.value, sequence)
        event = Event.model_validate_json(message.data or b"")
        if kind is None or event.kind.value == kind:
            found.append(event)
    return found


def assert_error(
    response: httpx.Response, status: int, field: str | None = None, code: str | None = None
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    if field is not None:
        assert body["field"] == field, body
    if code is not None:
        assert body["code"] == code, body
