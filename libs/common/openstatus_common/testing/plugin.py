"""pytest fixtures: a real nats-server with JetStream and a real PostgreSQL, both on free ports.

Session scope: one nats-server and one PostgreSQL cluster, stopped by PID at the end. Per test: a clean
database (copied from a migrated template on both backends) and clean JetStream streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from openstatus_common.db.engine import create_engine, session_factory
from openstatus_common.local.natsd import NatsServer, free_port
from openstatus_common.testing.postgres import PostgresCluster

BACKENDS = ["sqlite", "postgres"]
T = TypeVar("T")
_counter = itertools.count()


# --- NATS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    store = Path(tempfile.mkdtemp(prefix="openstatus-nats-"))
    server = NatsServer(store_dir=store, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture
async def nats_url(nats_server: NatsServer) -> AsyncIterator[str]:
    """The session server's URL, with every stream deleted so each test starts clean."""
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for name in [info.config.name for info in await js.streams_info() if info.config.name]:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
        # Key-value buckets are streams too (KV_<bucket>), so they were removed above.
    finally:
        await nc.close()
    yield nats_server.url


# --- PostgreSQL and SQLite ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    # Not under pytest's tmp dirs: the postgres user must be able to traverse the path.
    data = Path(tempfile.mkdtemp(prefix="openstatus-pg-")) / "data"
    data.parent.chmod(0o755)
    cluster = PostgresCluster(data_dir=data)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(data.parent, ignore_errors=True)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop in a worker thread (safe inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _pg_admin(cluster: PostgresCluster, *statements: str) -> None:
    engine = create_async_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="openstatus-sqlite-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def _pg_templates() -> set[str]:
    """The migrated template databases made so far in this session."""
    return set()


def _pg_template(cluster: PostgresCluster, made: set[str]) -> str:
    """A database migrated to head once per UTC day; tests get copies of it.

    The migration creates the ``check_results`` partitions around its own day, so a session that runs past
    midnight migrates a new template rather than handing out yesterday's partitions.
    """
    from openstatus_common.db.base import utcnow
    from openstatus_common.db.migrate import upgrade

    name = f"template_head_{utcnow():%Y%m%d}"
    if name not in made:
        _run(_pg_admin(cluster, f"CREATE DATABASE {name}"))
        _run(upgrade(cluster.url(name)))
        made.add(name)
    return name


@pytest.fixture(scope="session")
def _sqlite_template(sqlite_dir: Path) -> Path:
    from openstatus_common.db.migrate import upgrade

    path = sqlite_dir / "template_head.db"
    _run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


def _fresh_database(request: pytest.FixtureRequest, backend: str, *, migrated: bool) -> str:
    number = next(_counter)
    if backend == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        name = f"test_{number}"
        if migrated:
            template = _pg_template(cluster, request.getfixturevalue("_pg_templates"))
            _run(_pg_admin(cluster, f"CREATE DATABASE {name} TEMPLATE {template}"))
        else:
            _run(_pg_admin(cluster, f"CREATE DATABASE {name}"))
        return cluster.url(name)
    directory: Path = request.getfixturevalue("sqlite_dir")
    path = directory / f"test_{number}.db"
    if migrated:
        template_path: Path = request.getfixturevalue("_sqlite_template")
        shutil.copyfile(template_path, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each backend."""
    return _fresh_database(request, request.param, migrated=False)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database migrated to head, on each backend."""
    return _fresh_database(request, request.param, migrated=True)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated PostgreSQL database, for tests that only make sense on Postgres."""
    return _fresh_database(request, "postgres", migrated=True)


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(db_engine)


# --- probe targets: local HTTP(S), DNS and TCP servers (see testing/targets.py) ---------------------
# Imported inside the fixtures so sessions that never use them do not import trustme or dnslib.


@pytest.fixture(scope="session")
def _http_target_server() -> Iterator[Any]:
    from openstatus_common.testing.targets import HttpTarget

    target = HttpTarget().start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def http_target(_http_target_server: Any) -> Any:
    """The session's HTTP(S) target (``.url``, ``.tls_url``, ``.ca_path``) with its request log cleared."""
    _http_target_server.reset()
    return _http_target_server


@pytest.fixture(scope="session")
def dns_target() -> Iterator[Any]:
    """A DNS server for ``targets.ZONE``; query it at ``.nameserver`` (``127.0.0.1:<port>``)."""
    from openstatus_common.testing.targets import DnsTarget

    target = DnsTarget().start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def tcp_target() -> Iterator[Any]:
    """A TCP listener that accepts and closes (``.port``, ``.address``, ``.accepted``)."""
    from openstatus_common.testing.targets import TcpTarget

    target = TcpTarget().start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where connecting is refused."""
    from openstatus_common.testing.targets import closed_port as pick_closed_port

    return pick_closed_port()
