"""On SQLite, ids are never handed out twice.

Without ``AUTOINCREMENT``, SQLite gives a new row the highest id + 1, so deleting the newest report, update,
maintenance or page hands its id to the next one. Those ids are in links already mailed
(``/events/report/<id>``), in event ids that JetStream deduplicates, and in the keys that keep a mail from
going out twice, so a reused id could show another report behind an old link or swallow a mail. PostgreSQL
sequences never reuse ids; this rebuilds the SQLite tables whose ids leave the database with
``AUTOINCREMENT``. The high-volume tables (check results and rollups, deliveries, the audit log, the outbox)
keep their cheaper ids: theirs are internal.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents before children does not matter here: foreign keys are off while SQLite tables are rebuilt.
TABLES = (
    "workspaces",
    "api_keys",
    "monitors",
    "incidents",
    "notification_channels",
    "status_pages",
    "page_component_groups",
    "page_components",
    "page_subscribers",
    "status_reports",
    "status_report_updates",
    "maintenances",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    if op.get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping a parent table would delete its children's rows: refuse rather than lose data.
        raise RuntimeError("0009 must run with SQLite foreign keys off (openstatus-migrate does this)")
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
