"""The Alembic migrations against real PostgreSQL and SQLite databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import create_engine
from openstatus_common.db.migrate import (
    autogenerate_options,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from openstatus_common.db.models import Base, CheckResult, Incident, Monitor, StatusPage, Workspace
from openstatus_common.db.partitions import is_partition_name, partition_name

EXPECTED_TABLES = {
    "workspaces",
    "api_keys",
    "monitors",
    "check_results",
    "check_rollups",
    "incidents",
    "notification_channels",
    "monitor_notifications",
    "notification_deliveries",
    "status_pages",
    "page_component_groups",
    "page_components",
    "status_reports",
    "status_report_updates",
    "status_report_components",
    "maintenances",
    "maintenance_components",
    "page_subscribers",
    "audit_log",
    "monitor_region_states",
    "event_outbox",
    "subscriber_deliveries",
}


async def _tables(url: str) -> set[str]:
    """Application tables in the database: partitions and Alembic's own table left out."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return {name for name in names if name != "alembic_version" and not is_partition_name(name)}


async def _make_monitor(session: AsyncSession, slug: str = "acme") -> Monitor:
    workspace = Workspace(name="Acme", slug=slug)
    session.add(workspace)
    await session.flush()
    monitor = Monitor(
        workspace_id=workspace.id, kind="http", name="API", url="https://example.com", periodicity="1m"
    )
    session.add(monitor)
    await session.flush()
    return monitor


def test_models_cover_every_expected_table() -> None:
    assert set(Base.metadata.tables) == EXPECTED_TABLES


async def test_upgrade_to_head_creates_every_table(empty_db_url: str) -> None:
    assert await current_revision(empty_db_url) is None
    assert await _tables(empty_db_url) == set()

    await upgrade(empty_db_url)

    assert await current_revision(empty_db_url) == head_revision()
    assert await _tables(empty_db_url) == EXPECTED_TABLES


async def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO workspaces (name, slug) VALUES ('Acme', 'acme')"))

        await upgrade(empty_db_url)

        async with engine.connect() as connection:
            slugs = (await connection.execute(text("SELECT slug FROM workspaces"))).scalars().all()
    finally:
        await engine.dispose()
    assert slugs == ["acme"]
    assert await current_revision(empty_db_url) == head_revision()
    assert await _tables(empty_db_url) == EXPECTED_TABLES


async def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    await downgrade(db_url, "base")
    assert await current_revision(db_url) is None
    assert await _tables(db_url) == set()

    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
    assert await _tables(db_url) == EXPECTED_TABLES


def _schema_diffs(connection: Connection) -> list[Any]:
    # The options autogenerate uses: types and server defaults compared, check_results partitions skipped.
    context = MigrationContext.configure(connection, opts=autogenerate_options())
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_the_migrated_schema(db_url: str) -> None:
    # Tables, columns, types, nullability, server defaults, indexes (an index on the partitioned parent
    # included), unique constraints and foreign keys, on both backends. Alembic does not compare CHECK
    # constraints or an index's WHERE clause: test_one_open_incident_per_monitor covers the partial index.
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(_schema_diffs)
    finally:
        await engine.dispose()
    assert diffs == []


async def test_server_defaults_fill_rows_inserted_with_plain_sql(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO workspaces (name, slug) VALUES ('Acme', 'acme')"))
            await connection.execute(
                text(
                    "INSERT INTO monitors (workspace_id, kind, name, url, periodicity) "
                    "SELECT id, 'http', 'API', 'https://example.com', '1m' FROM workspaces"
                )
            )
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            workspace = (await session.execute(select(Workspace))).scalar_one()
            monitor = (await session.execute(select(Monitor))).scalar_one()
    finally:
        await engine.dispose()
    assert (workspace.plan, workspace.limits) == ("free", {})
    assert workspace.created_at.tzinfo is UTC
    assert abs(workspace.created_at - utcnow()) < timedelta(minutes=5)
    assert (monitor.timeout_ms, monitor.retry, monitor.follow_redirects) == (45000, 3, True)
    assert (monitor.active, monitor.public, monitor.status, monitor.method) == (False, False, "active", "GET")
    assert (monitor.headers, monitor.regions, monitor.assertions) == ([], [], {})


async def test_one_open_incident_per_monitor(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        monitor = await _make_monitor(session)
        session.add(Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=utcnow()))

    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(
                Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=utcnow())
            )

    # Resolved incidents do not count: resolve the open one, then a new one may open.
    async with sessions() as session, session.begin():
        incident = (await session.execute(select(Incident))).scalar_one()
        incident.status = "resolved"
        incident.resolved_at = utcnow()
        session.add(Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=utcnow()))

    async with sessions() as session:
        statuses = (await session.execute(select(Incident.status).order_by(Incident.id))).scalars().all()
    assert statuses == ["resolved", "open"]


async def test_timestamps_come_back_as_aware_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    plus_two = timezone(timedelta(hours=2))
    started = datetime(2024, 3, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    async with sessions() as session, session.begin():
        monitor = await _make_monitor(session)
        session.add(Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=started))

    async with sessions() as session:
        stored = (await session.execute(select(Incident.started_at))).scalar_one()
        # Comparisons happen in UTC on both backends.
        later = (
            select(func.count())
            .select_from(Incident)
            .where(Incident.started_at > started - timedelta(seconds=1))
        )
        assert (await session.execute(later)).scalar_one() == 1
    assert stored == started
    assert stored.tzinfo is UTC
    assert stored.hour == 12


async def test_naive_datetimes_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessions() as session, session.begin():
            monitor = await _make_monitor(session)
            naive = datetime(2024, 3, 1, 12, 0)
            session.add(Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=naive))


async def test_deleting_a_workspace_cascades(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        monitor = await _make_monitor(session)
        session.add(StatusPage(workspace_id=monitor.workspace_id, title="Acme", slug="acme-status"))
        session.add(Incident(workspace_id=monitor.workspace_id, monitor_id=monitor.id, started_at=now))
        session.add(
            CheckResult(
                id="r1",
                scheduled_at=now,
                monitor_id=monitor.id,
                workspace_id=monitor.workspace_id,
                region="ams",
                job_id="j1",
                started_at=now,
                outcome="success",
                latency_ms=12,
            )
        )

    async with sessions() as session, session.begin():
        workspace = await session.get_one(Workspace, monitor.workspace_id)
        # Relationships are lazy="raise" and passive: the database does the cascading.
        await session.delete(workspace)

    async with sessions() as session:
        for model in (Monitor, StatusPage, Incident, CheckResult):
            count = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            assert count == 0, model.__tablename__


async def test_postgres_check_results_is_partitioned_by_day(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            strategy = (
                await connection.execute(
                    text(
                        "SELECT partstrat::text FROM pg_partitioned_table "
                        "WHERE partrelid = 'check_results'::regclass"
                    )
                )
            ).scalar_one()
            children = set(
                (
                    await connection.execute(
                        text(
                            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                            "WHERE i.inhparent = 'check_results'::regclass"
                        )
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    assert strategy == "r"
    today = utcnow().date()
    expected = {partition_name(today + timedelta(days=offset)) for offset in range(-1, 8)}
    assert children == expected | {"check_results_default"}


async def test_domains_served_before_0007_stay_served_and_only_verified_domains_are_unique(
    db_url: str,
) -> None:
    await downgrade(db_url, "0006")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO workspaces (name, slug) VALUES ('Acme', 'acme')"))
            await connection.execute(
                text(
                    "INSERT INTO status_pages (workspace_id, title, slug, custom_domain) "
                    "SELECT id, 'Acme', 'acme', 'status.acme.test' FROM workspaces"
                )
            )
        await upgrade(db_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            page = (await session.execute(select(StatusPage))).scalar_one()
            assert page.served_domain == "status.acme.test"  # was served: counts as verified
            workspace_id = page.workspace_id
        async with sessions.begin() as session:  # claims of a verified domain may coexist...
            for slug in ("claim-1", "claim-2"):
                session.add(
                    StatusPage(
                        workspace_id=workspace_id, title="T", slug=slug, custom_domain="status.acme.test"
                    )
                )
        with pytest.raises(IntegrityError):  # ...but only one page may have proved it
            async with sessions.begin() as session:
                claim = (
                    await session.execute(select(StatusPage).where(StatusPage.slug == "claim-1"))
                ).scalar_one()
                claim.custom_domain_verified_at = utcnow()
    finally:
        await engine.dispose()


async def test_ids_are_never_handed_out_twice_even_after_0009_on_an_existing_database(db_url: str) -> None:
    """A deleted newest row's id is not given to the next one (SQLite reused it before 0009): ids are in
    mailed links and in the keys that keep a mail from going out twice."""
    await downgrade(db_url, "0008")
    engine = create_engine(db_url)

    async def insert_workspace(connection: Any, slug: str) -> int:
        await connection.execute(
            text("INSERT INTO workspaces (name, slug) VALUES ('W', :slug)"), {"slug": slug}
        )
        return int((await connection.execute(text("SELECT max(id) FROM workspaces"))).scalar_one())

    try:
        async with engine.begin() as connection:
            kept = await insert_workspace(connection, "kept")
            newest = await insert_workspace(connection, "newest")
            await connection.execute(
                text("INSERT INTO status_pages (workspace_id, title, slug) VALUES (:w, 'P', 'p')"),
                {"w": kept},
            )
        await upgrade(db_url)
        async with engine.begin() as connection:
            # The rows survived the rebuild, foreign keys and all.
            assert (await connection.execute(text("SELECT slug FROM status_pages"))).scalar_one() == "p"
            await connection.execute(text("DELETE FROM workspaces WHERE id = :id"), {"id": newest})
            assert await insert_workspace(connection, "next") > newest
            # And on a freshly created row as well.
            latest = await insert_workspace(connection, "latest")
            await connection.execute(text("DELETE FROM workspaces WHERE id = :id"), {"id": latest})
            assert await insert_workspace(connection, "after") > latest
    finally:
        await engine.dispose()


async def test_the_models_and_the_sqlite_schema_agree_on_which_ids_are_never_reused(tmp_path: Path) -> None:
    """A later batch migration rebuilds a table from the model's options: a model without the flag would
    quietly drop AUTOINCREMENT again. (SQLite only: PostgreSQL sequences never reuse ids.)"""
    url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    flagged = {
        name
        for name, table in Base.metadata.tables.items()
        if table.dialect_options["sqlite"]["autoincrement"]
    }
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            autoincrement = {name for name, sql in rows if "AUTOINCREMENT" in sql}
    finally:
        await engine.dispose()
    assert flagged == autoincrement
    assert {"status_reports", "status_report_updates", "maintenances", "status_pages"} <= flagged
