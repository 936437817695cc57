"""``GET /public/status/{slug}`` on the API host: the React widget's shape, no key, public pages only."""

from __future__ import annotations

import httpx

from .conftest import MakeKey


async def test_widget_status_of_a_public_page(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    headers = {"x-openstatus-key": await make_key()}
    page = (
        await client.post("/v1/page", json={"title": "Acme", "slug": "acme-widget"}, headers=headers)
    ).json()
    component = (
        await client.post(
            f"/v1/page/{page['id']}/component", json={"type": "static", "name": "Payments"}, headers=headers
        )
    ).json()
    answer = await client.get("/public/status/acme-widget")
    assert answer.status_code == 200
    assert answer.json() == {"status": "operational"}
    assert answer.headers["access-control-allow-origin"] == "*"

    await client.post(
        "/v1/status-report",
        json={
            "title": "Declines",
            "status": "investigating",
            "message": "Looking",
            "pageId": page["id"],
            "pageComponentIds": [component["id"]],
        },
        headers=headers,
    )
    # The answer is kept for a few seconds; a fresh cache sees the report.
    client._transport.app.state.public_status_cache = {}  # type: ignore[attr-defined]
    assert (await client.get("/public/status/acme-widget")).json() == {"status": "incident"}


async def test_unknown_and_protected_pages_answer_unknown(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    headers = {"x-openstatus-key": await make_key()}
    await client.post(
        "/v1/page",
        json={"title": "Secret", "slug": "secret-widget", "accessType": "password", "password": "hunter22"},
        headers=headers,
    )
    for slug in ("secret-widget", "nope"):
        answer = await client.get(f"/public/status/{slug}")
        assert answer.status_code == 404
        assert answer.json() == {"status": "unknown"}
