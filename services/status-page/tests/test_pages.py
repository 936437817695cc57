"""The status-page service renders published pages by slug, escapes what users typed, and 404s the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import StatusPage, Workspace
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from status_page.app import create_app


@pytest.fixture
async def client(db_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    ctx = ServiceContext(name="status-page", settings=Settings())
    ctx.attach(engine=db_engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://pages"
    ) as client:
        yield client


async def add_page(sessions: async_sessionmaker[AsyncSession], **fields: object) -> None:
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name="Acme", slug=f"ws-{fields['slug']}", plan="team", limits={})
        session.add(workspace)
        await session.flush()
        session.add(StatusPage(workspace_id=workspace.id, **fields))


async def test_published_page_renders_with_html_escaped(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_page(
        sessions, slug="acme", title="Acme <script>alert(1)</script>", description="<b>up</b>", published=True
    )
    response = await client.get("/acme")
    assert response.status_code == 200
    assert "Acme &lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    assert "&lt;b&gt;up&lt;/b&gt;" in response.text
    assert "Powered by openstatus" in response.text


async def test_white_label_hides_the_footer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_page(sessions, slug="plain", title="Plain", published=True, white_label=True)
    assert "Powered by openstatus" not in (await client.get("/plain")).text


async def test_unknown_and_unpublished_pages_are_404(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_page(sessions, slug="draft", title="Draft", published=False)
    assert (await client.get("/draft")).status_code == 404
    assert (await client.get("/nope")).status_code == 404
