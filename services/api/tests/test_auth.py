"""API keys: a valid key gets in, a missing, unknown or revoked key gets 401, a read key cannot write."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import ApiKey

from .conftest import MakeKey


async def test_whoami_with_a_valid_key(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], make_key: MakeKey
) -> None:
    key = await make_key("acme", ("read",))
    response = await client.get("/v1/whoami", headers={"x-openstatus-key": key})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Acme"
    assert body["slug"] == "acme"
    assert body["plan"] == "team"
    assert body["actor"]["type"] == "apiKey"
    assert body["actor"]["scopes"] == ["read"]
    assert body["actor"]["keyId"].isdigit()
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers", [{}, {"x-openstatus-key": ""}, {"x-openstatus-key": "os_notarealkeyatallnotarealkey12"}]
)
async def test_missing_or_unknown_key_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/v1/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


async def test_revoked_key_is_401(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], make_key: MakeKey
) -> None:
    key = await make_key("acme", ("write",))
    assert (await client.get("/v1/whoami", headers={"x-openstatus-key": key})).status_code == 200
    async with unit_of_work(sessions) as session:
        stored = (await session.execute(select(ApiKey))).scalar_one()
        stored.revoked_at = utcnow()
    assert (await client.get("/v1/whoami", headers={"x-openstatus-key": key})).status_code == 401


async def test_keys_are_stored_hashed(sessions: async_sessionmaker[AsyncSession], make_key: MakeKey) -> None:
    key = await make_key("acme", ("write",))
    async with sessions() as session:
        stored = (await session.execute(select(ApiKey))).scalar_one()
    assert key not in (stored.key_hash, stored.prefix)
    assert stored.prefix == key[:7]
    assert len(stored.key_hash) == 64


async def test_health_endpoints_need_no_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
