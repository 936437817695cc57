"""Status-page test helpers: the app on a fresh database, and a builder for pages with history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.pages import PageBuilder
from status_page.app import create_app


@pytest.fixture
def page_settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, status_page_base_domain="status.test")


@pytest.fixture
async def pages_app(db_engine: AsyncEngine, page_settings: Settings) -> Any:
    ctx = ServiceContext(name="status-page", settings=page_settings)
    ctx.attach(engine=db_engine)
    return create_app(ctx)


@pytest.fixture
async def pages(pages_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=pages_app, client=("198.51.100.7", 4242)),
        base_url="http://localhost",
    ) as client:
        yield client


@pytest.fixture
def build(sessions: async_sessionmaker[AsyncSession]) -> PageBuilder:
    return PageBuilder(sessions)
