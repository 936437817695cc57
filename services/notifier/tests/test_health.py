"""The notifier process serves liveness at once and readiness only once NATS and the database answer."""

from __future__ import annotations

import httpx

from openstatus_common.bus import Bus
from openstatus_common.db.engine import create_engine
from openstatus_common.service import ServiceContext, health_app
from openstatus_common.settings import Settings


async def test_readiness_follows_dependencies(nats_url: str, db_url: str) -> None:
    ctx = ServiceContext(name="notifier", settings=Settings())
    app = health_app(ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as client:
        assert (await client.get("/healthz")).status_code == 200
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["nats"] != "ok"

        engine = create_engine(db_url)
        bus = await Bus.connect(nats_url, name="t")
        try:
            ctx.attach(engine=engine, bus=bus)
            ctx.started.set()
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"nats": "ok", "database": "ok"}
            ctx.stop.set()  # a stopping service is no longer ready: load balancers move away first
            assert (await client.get("/readyz")).status_code == 503
        finally:
            await bus.close()
            await engine.dispose()
