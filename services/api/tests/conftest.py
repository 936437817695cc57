"""API test helpers: an in-process app on a fresh database and real NATS, and key factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from openstatus_common.apikeys import generate_key
from openstatus_common.bus import Bus
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import ApiKey, Workspace
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings

MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="api-test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


@pytest.fixture
async def client(db_engine: AsyncEngine, bus: Bus) -> AsyncIterator[httpx.AsyncClient]:
    ctx = ServiceContext(name="api", settings=Settings(regions="ams,iad,syd"))
    ctx.attach(engine=db_engine, bus=bus)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.fixture
def make_key(sessions: async_sessionmaker[AsyncSession]) -> MakeKey:
    async def make(slug: str = "acme", scopes: tuple[str, ...] = ("write",)) -> str:
        new = generate_key()
        async with unit_of_work(sessions) as session:
            workspace = (
                await session.execute(select(Workspace).where(Workspace.slug == slug))
            ).scalar_one_or_none()
            if workspace is None:
                workspace = Workspace(name=slug.title(), slug=slug, plan="team", limits={})
                session.add(workspace)
                await session.flush()
            session.add(
                ApiKey(
                    workspace_id=workspace.id,
                    name="k",
                    prefix=new.prefix,
                    key_hash=new.digest,
                    scopes=list(scopes),
                )
            )
        return new.plaintext

    return make
