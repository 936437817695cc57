"""Pages follow the bus: an incident or a report shows within seconds; a database outage serves the last
known state, marked stale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import event_subject
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import create_engine
from openstatus_common.db.models import StatusPage
from openstatus_common.messages import Event, EventKind
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.processes import wait_for
from status_page.app import create_app
from status_page.freshness import listen


@pytest.fixture
async def live(
    db_engine: AsyncEngine, nats_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Bus]]:
    # A long cache: only events can make the page change within the test.
    ctx = ServiceContext(
        name="status-page", settings=Settings(var_dir=tmp_path, status_page_cache_seconds=600)
    )
    bus = await Bus.connect(nats_url, name="pages-test")
    await bus.ensure_streams()
    ctx.attach(engine=db_engine, bus=bus)
    app = create_app(ctx)
    # Wait out the start-up pre-warm: it would otherwise read a page half built by the test.
    warmed = asyncio.Event()
    listener = asyncio.create_task(listen(ctx, app.state.pages.store, warmed=warmed))
    await asyncio.wait_for(warmed.wait(), 10)
    await bus.nc.flush()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        yield client, bus
    ctx.stop.set()
    await asyncio.wait_for(listener, 5)
    await bus.close()


def event(kind: EventKind, workspace_id: int, *, monitor_id: int | None = None, **data: Any) -> Event:
    return Event(
        event_id=f"{kind.value}:{utcnow().timestamp()}",
        kind=kind,
        occurred_at=utcnow(),
        workspace_id=workspace_id,
        monitor_id=monitor_id,
        data=data,
    )


async def announce(bus: Bus, message: Event) -> None:
    await bus.publish(event_subject(message.kind.value), message, msg_id=message.event_id)


async def status_of_page(client: httpx.AsyncClient) -> str:
    return str((await client.get("/public/status/acme")).json()["status"])


async def test_incident_and_report_reach_the_page_within_seconds(
    live: tuple[httpx.AsyncClient, Bus], build: Any
) -> None:
    client, bus = live
    await build.page("acme")
    monitor = await build.monitor("API")
    component = await build.component("API", monitor=monitor)
    assert await status_of_page(client) == "operational"

    incident = await build.incident(monitor, utcnow())
    assert await status_of_page(client) == "operational"  # cached until told
    await announce(
        bus, event(EventKind.INCIDENT_OPENED, build.workspace_id, monitor_id=monitor.id, id=incident.id)
    )
    await wait_for(lambda: _is(client, "major_outage"), timeout=5)

    async with build.sessions() as session, session.begin():
        row = await session.get_one(type(incident), incident.id)
        row.status, row.resolved_at = "resolved", utcnow()
    await announce(bus, event(EventKind.INCIDENT_RESOLVED, build.workspace_id, monitor_id=monitor.id))
    await wait_for(lambda: _is(client, "operational"), timeout=5)

    await build.report("Slow", [component], [("investigating", "Looking", utcnow())])
    await announce(
        bus, event(EventKind.REPORT_PUBLISHED, build.workspace_id, page_id=build.page_id, notify=False)
    )
    await wait_for(lambda: _is(client, "incident"), timeout=5)
    assert "Slow" in (await client.get("/acme")).text


async def _is(client: httpx.AsyncClient, status: str) -> bool:
    return await status_of_page(client) == status


async def test_database_outage_serves_the_last_known_page_marked_stale(
    db_engine: AsyncEngine, build: Any, tmp_path: Path
) -> None:
    ctx = ServiceContext(name="status-page", settings=Settings(var_dir=tmp_path, status_page_cache_seconds=0))
    ctx.attach(engine=db_engine)
    app = create_app(ctx)
    await build.page("acme")
    await build.component("Payments", created_at=utcnow() - timedelta(days=3))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        fresh = await client.get("/acme")
        assert fresh.status_code == 200 and "X-Openstatus-Stale" not in fresh.headers
        # The database goes away: nothing listens on this port.
        dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
        ctx.attach(engine=dead)
        try:
            stale = await client.get("/acme")
            assert stale.status_code == 200
            assert stale.headers["X-Openstatus-Stale"] == "1"
            assert "Payments" in stale.text
            assert "last known status" in stale.text
            # A page never seen before cannot be served: a clear 503, not a crash.
            assert (await client.get("/other")).status_code == 503
        finally:
            await dead.dispose()


async def test_pages_loaded_at_start_survive_a_database_outage_before_their_first_visit(
    db_engine: AsyncEngine, build: Any, tmp_path: Path
) -> None:
    ctx = ServiceContext(name="status-page", settings=Settings(var_dir=tmp_path, status_page_cache_seconds=0))
    ctx.attach(engine=db_engine)
    app = create_app(ctx)
    await build.page("early")
    await build.component("Checkout", created_at=utcnow() - timedelta(days=3))
    await build.page("draft", published=False)
    assert await app.state.pages.store.prewarm() == 1
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    ctx.attach(engine=dead)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client:
            page = await client.get("/early")
            assert page.status_code == 200
            assert "Checkout" in page.text
            assert page.headers["X-Openstatus-Stale"] == "1"
    finally:
        await dead.dispose()


async def test_an_event_during_a_database_outage_keeps_the_last_page(
    db_engine: AsyncEngine, build: Any, tmp_path: Path
) -> None:
    ctx = ServiceContext(
        name="status-page", settings=Settings(var_dir=tmp_path, status_page_cache_seconds=600)
    )
    ctx.attach(engine=db_engine)
    app = create_app(ctx)
    await build.page("acme")
    checkout = await build.component("Checkout", created_at=utcnow() - timedelta(days=3))
    await build.component("API", monitor=await build.monitor("API", public=True))
    report = await build.report("Slow checkout", [checkout], [("investigating", "Looking", utcnow())])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        assert (await client.get("/acme")).status_code == 200
        dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
        ctx.attach(engine=dead)
        try:
            app.state.pages.store.invalidate_page(build.page_id)
            page = await client.get("/acme")
            assert page.status_code == 200
            assert page.headers["X-Openstatus-Stale"] == "1"
            # A route that reads the database itself answers 503, not 500.
            assert (await client.get("/acme/monitors")).status_code == 503
            # An id below the page's newest report that it never had: with no archive, the snapshot answers.
            assert (await client.get(f"/acme/events/report/{report.id - 1}")).status_code == 404
        finally:
            await dead.dispose()


async def test_a_renamed_slug_stops_answering(pages: httpx.AsyncClient, build: Any, pages_app: Any) -> None:
    await build.page("old-name")
    assert (await pages.get("/old-name")).status_code == 200
    async with build.sessions() as session, session.begin():
        row = await session.get_one(StatusPage, build.page_id)
        row.slug = "new-name"
    pages_app.state.pages.store.invalidate_page(build.page_id)
    assert (await pages.get("/new-name")).status_code == 200
    assert (await pages.get("/old-name")).status_code == 404
