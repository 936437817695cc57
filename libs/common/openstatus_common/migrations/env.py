"""Alembic environment for both backends.

``openstatus_common.db.migrate`` passes a live synchronous connection in ``config.attributes["connection"]``
(from ``AsyncConnection.run_sync``), which works inside a running event loop. Without one (the ``alembic``
command line with ``-x url=...`` or ``sqlalchemy.url``), this module opens its own async engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from openstatus_common.db.engine import create_engine
from openstatus_common.db.migrate import autogenerate_options
from openstatus_common.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(dialect_name: str, **connection_or_url: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        **autogenerate_options(),
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=dialect_name == "sqlite",
        **connection_or_url,
    )


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set sqlalchemy.url")
    return url


def run_migrations_offline() -> None:
    url = _url()
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    _configure(dialect_name, url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection.dialect.name, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # As in openstatus-migrate: rebuilding a table drops it, which with foreign keys on would
                # cascade into its children. The pragma only takes effect outside a transaction.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.commit()
            async with connection.begin():
                await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
