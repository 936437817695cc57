"""The life of a service process: start-up, health endpoints, workers, and a bounded graceful stop.

Every service is run by ``run_service``: it serves ``/healthz`` (the process is alive) at once, connects to
NATS and the database (retrying until they answer), declares the streams, starts its workers, and reports
``/readyz`` 200 while NATS and the database are reachable. On SIGTERM or SIGINT it stops pulling work, lets
workers finish in-flight work within ``shutdown_timeout``, stops the HTTP server, drains NATS and closes
the database pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.engine import create_engine, ping, session_factory
from openstatus_common.logging import configure_logging
from openstatus_common.settings import Settings, load_settings_or_exit
from openstatus_common.tracing import configure_tracing, http_telemetry

log = structlog.get_logger(__name__)

READY_CHECK_TIMEOUT = 2.0


class NotReady(RuntimeError):
    """The service is still connecting to its dependencies."""


@dataclass
class ServiceContext:
    """What a service's workers and routes share. Connections exist once ``ready`` is set."""

    name: str
    settings: Settings
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    crashed: bool = False
    # Stateless services (probes) never open the database: their readiness is NATS alone.
    uses_database: bool = True
    _bus: Bus | None = None
    _engine: AsyncEngine | None = None
    _sessions: async_sessionmaker[AsyncSession] | None = None

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise NotReady("not connected to NATS yet")
        return self._bus

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise NotReady("database not configured yet")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise NotReady("database not configured yet")
        return self._sessions

    def attach(self, *, engine: AsyncEngine | None = None, bus: Bus | None = None) -> None:
        """Give the context its connections (``run_service`` does this; tests may too)."""
        if engine is not None:
            self._engine = engine
            self._sessions = session_factory(engine)
        if bus is not None:
            self._bus = bus

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: "ok" or the reason it is not."""
        checks: dict[str, str] = {}
        probes = [("nats", self._ping_bus)] + ([("database", self._ping_db)] if self.uses_database else [])
        for name, probe in probes:
            try:
                await asyncio.wait_for(probe(), READY_CHECK_TIMEOUT)
                checks[name] = "ok"
            except Exception as error:
                checks[name] = str(error) or type(error).__name__
        if not self.started.is_set():
            checks["workers"] = "starting"
        return checks

    async def _ping_bus(self) -> None:
        await self.bus.ping()

    async def _ping_db(self) -> None:
        await ping(self.engine)


Worker = Callable[[ServiceContext], Awaitable[None]]
AppFactory = Callable[[ServiceContext], FastAPI]


def health_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": ctx.name}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await ctx.readiness()
        ready = all(value == "ok" for value in checks.values()) and not ctx.stop.is_set()
        body = {"status": "ready" if ready else "not ready", "service": ctx.name, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def health_app(ctx: ServiceContext) -> FastAPI:
    """The HTTP surface of a service that has no other: health endpoints only."""
    app = FastAPI(
        title=f"openstatus {ctx.name}",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=http_telemetry(ctx.settings),
    )
    app.include_router(health_router(ctx))
    return app


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _connect_with_retry(ctx: ServiceContext) -> None:
    """Connect to NATS (the client retries forever on its own) unless asked to stop first."""
    delay = 0.2
    while not ctx.stop.is_set():
        connecting = asyncio.create_task(Bus.connect(ctx.settings.nats_url, name=f"openstatus-{ctx.name}"))
        stopping = asyncio.create_task(ctx.stop.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not connecting.done():
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            return
        bus = connecting.result()
        try:
            await bus.ensure_streams()
        except Exception as error:
            await bus.close()
            log.warning("service.nats_unavailable", error=str(error) or type(error).__name__, retry_in=delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ctx.stop.wait(), delay)
            delay = min(delay * 2, 5.0)
            continue
        ctx.attach(bus=bus)
        return


async def run_service(
    ctx: ServiceContext,
    *,
    port: int,
    workers: Sequence[Worker] = (),
    app_factory: AppFactory = health_app,
) -> None:
    """Run until SIGTERM/SIGINT (or ``ctx.stop``), then shut down in order within the bounds."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, _request_stop, ctx, sig)

    if ctx.uses_database:
        ctx.attach(engine=create_engine(ctx.settings.database_url))
    app = app_factory(ctx)
    config = uvicorn.Config(
        app,
        host=ctx.settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(ctx.settings.shutdown_timeout),
        # The client address is the TCP peer: X-Forwarded-For is believed only where a service says so
        # (the status pages, from OPENSTATUS_TRUSTED_PROXIES), never by uvicorn for any local peer.
        proxy_headers=False,
    )
    server = _Server(config)
    server_task = asyncio.create_task(server.serve(), name=f"{ctx.name}-http")
    worker_tasks: list[asyncio.Task[None]] = []
    try:
        await _connect_with_retry(ctx)
        if not ctx.stop.is_set():
            worker_tasks = [asyncio.create_task(_guard(worker, ctx)) for worker in workers]
            ctx.started.set()
            log.info("service.started", port=port)
        stop_task = asyncio.create_task(ctx.stop.wait())
        await asyncio.wait({stop_task, server_task}, return_when=asyncio.FIRST_COMPLETED)
        stop_task.cancel()
        if server_task.done() and not ctx.stop.is_set():
            ctx.stop.set()
            server_task.result()  # the HTTP server died (port taken?): surface why
    finally:
        ctx.stop.set()
        if worker_tasks:
            # Workers bound their own in-flight work by shutdown_timeout; this is a backstop.
            _, late = await asyncio.wait(worker_tasks, timeout=ctx.settings.shutdown_timeout + 2)
            for task in late:
                task.cancel()
            await asyncio.gather(*worker_tasks, return_exceptions=True)
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server_task, ctx.settings.shutdown_timeout + 2)
        if ctx._bus is not None:
            await ctx._bus.close()
        if ctx._engine is not None:
            await ctx._engine.dispose()
        log.info("service.stopped")


def _request_stop(ctx: ServiceContext, sig: signal.Signals) -> None:
    if not ctx.stop.is_set():
        log.info("service.stopping", signal=sig.name)
    ctx.stop.set()


async def _guard(worker: Worker, ctx: ServiceContext) -> None:
    """A worker that crashes takes the process down, so the supervisor restarts it cleanly."""
    try:
        await worker(ctx)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("service.worker_crashed", worker=getattr(worker, "__name__", repr(worker)))
        ctx.crashed = True
        ctx.stop.set()
        raise


def main_for(
    name: str,
    *,
    port: Callable[[Settings], int],
    workers: Sequence[Worker] = (),
    app_factory: AppFactory = health_app,
    uses_database: bool = True,
    **overrides: Any,
) -> None:
    """The body of every service's ``main()``: settings, logs, tracing, then ``run_service``."""
    settings = load_settings_or_exit(**overrides)
    configure_logging(settings, service=name)
    configure_tracing(settings, service=name)
    ctx = ServiceContext(name=name, settings=settings, uses_database=uses_database)
    try:
        import uvloop

        runner: Callable[..., Any] = uvloop.run
    except ImportError:  # uvloop is optional; the default loop works
        runner = asyncio.run
    runner(run_service(ctx, port=port(settings), workers=workers, app_factory=app_factory))
    if ctx.crashed:
        raise SystemExit(1)
