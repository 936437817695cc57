"""Input at the edges gets a 400 that says what is wrong, never a 500: huge numbers, far dates, reserved or
too-long slugs."""

from __future__ import annotations

import httpx

from .conftest import MakeKey


async def test_huge_ids_and_offsets_are_refused(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    headers = {"x-openstatus-key": await make_key()}
    for path in ("/v1/page/100000000000000000000", "/v1/page?offset=100000000000000000000"):
        answer = await client.get(path, headers=headers)
        assert answer.status_code in (400, 404), answer.text
        assert answer.status_code != 500
    body = {"title": "T", "status": "investigating", "message": "m", "pageId": 10**20}
    answer = await client.post("/v1/status-report", json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["field"] == "pageId"


async def test_dates_past_the_calendar_are_refused(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    headers = {"x-openstatus-key": await make_key()}
    page = (
        await client.post("/v1/page", json={"title": "Acme", "slug": "acme-limits"}, headers=headers)
    ).json()
    answer = await client.post(
        "/v1/maintenance",
        json={
            "title": "Forever",
            "message": "Long one",
            "from": "2026-12-01T00:00:00Z",
            "to": "9999-12-31T22:00:00-05:00",
            "pageId": page["id"],
        },
        headers=headers,
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "to"


async def test_reserved_and_overlong_slugs_are_refused(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    headers = {"x-openstatus-key": await make_key()}
    for slug in ("healthz", "public", "a" * 64):
        answer = await client.post("/v1/page", json={"title": "T", "slug": slug}, headers=headers)
        assert answer.status_code == 400, slug
        assert answer.json()["field"] == "slug"


async def test_a_page_cannot_claim_the_deployments_own_hosts(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    headers = {"x-openstatus-key": await make_key()}
    # The test app's status pages are at 127.0.0.1 and its API at the same host: try "localhost" too.
    for domain in ("localhost", "127.0.0.1"):
        answer = await client.post(
            "/v1/page", json={"title": "T", "slug": "squat", "customDomain": domain}, headers=headers
        )
        assert answer.status_code == 400, domain
        assert answer.json()["field"] == "customDomain"


async def test_page_passwords_have_at_least_eight_characters(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    headers = {"x-openstatus-key": await make_key()}
    answer = await client.post(
        "/v1/page",
        json={"title": "T", "slug": "short-pw", "accessType": "password", "password": "short"},
        headers=headers,
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "password"
