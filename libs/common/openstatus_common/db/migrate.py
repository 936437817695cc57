"""Apply the Alembic migrations in ``openstatus_common/migrations`` to PostgreSQL or SQLite.

Everything runs on the async engine through ``AsyncConnection.run_sync``, so these functions can be awaited
from a running event loop (a service's lifespan, a test) without nesting ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from openstatus_common.db.engine import create_engine
from openstatus_common.db.partitions import is_partition_name

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Leave the daily ``check_results`` partitions out of comparisons: they are created at run time."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def compare_server_default(
    _context: object,
    _inspected_column: object,
    _metadata_column: object,
    inspected_default: str | None,
    _metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's server-default comparison, minus one false alarm.

    A ``server_default=""`` renders as an empty string, which Alembic takes for "no default", while SQLite
    reflects it as ``('')``. Returns False (equal) for that case and None (use Alembic's rule) otherwise.
    """
    if rendered_metadata_default == "" and (inspected_default or "").strip("()") == "''":
        return False
    return None


def autogenerate_options() -> dict[str, Any]:
    """Comparison options shared by env.py (autogenerate) and the schema-drift test."""
    return {
        "compare_type": True,
        "compare_server_default": compare_server_default,
        "include_name": include_name,
    }


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no alembic.ini), optionally bound to a live connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``; a no-op when it is already there."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    await _run(url, run)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops every table)."""

    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), revision)

    await _run(url, run)


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def _run(url: str, step: Callable[[Connection], None]) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite batch migrations rebuild a table by dropping it; with foreign keys on, that drop
                # would cascade into every child table. The pragma only takes effect outside a transaction.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.commit()
            async with connection.begin():
                await connection.run_sync(step)
                if sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows violating foreign keys: {broken[:5]}")
    finally:
        await engine.dispose()


def main() -> None:
    """``openstatus-migrate``: upgrade ``OPENSTATUS_DATABASE_URL`` to the newest revision."""
    from openstatus_common.settings import load_settings_or_exit

    settings = load_settings_or_exit()
    asyncio.run(upgrade(settings.database_url))
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"openstatus: {where} is at revision {head_revision()}")
