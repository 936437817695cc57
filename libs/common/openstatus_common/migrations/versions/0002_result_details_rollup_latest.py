"""Result details and the newest result per rollup bucket; sparse latency histograms.

- ``check_results.details``: what a check saw beyond the columns (finish time, response headers, DNS
  records, certificate expiry), shown by the results API. On PostgreSQL the column is added to the
  partitioned parent, which adds it to every partition.
- ``check_rollups.last_*``: the newest result counted in each bucket, so a region's latest status and a
  range's last ping come from rollups instead of the raw, partitioned results.
- ``check_rollups.latency_histogram`` is now sparse, ``{str(bucket index): count}``: default ``{}``.

Frozen like 0001: plain SQLAlchemy types only. SQLite rebuilds ``check_rollups`` (batch mode) to change the
column default.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EMPTY_LIST = sa.text("'[]'")
EMPTY_OBJECT = sa.text("'{}'")

LAST_COLUMNS = ("last_scheduled_at", "last_outcome", "last_latency_ms", "last_status_code", "last_error")


def upgrade() -> None:
    op.add_column("check_results", sa.Column("details", JSON, nullable=True))
    with op.batch_alter_table("check_rollups") as batch:
        batch.alter_column(
            "latency_histogram", existing_type=JSON, existing_nullable=False, server_default=EMPTY_OBJECT
        )
        batch.add_column(sa.Column("last_scheduled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_latency_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_status_code", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # Rows written with the old default held an empty dense list: the same empty histogram.
    op.execute("UPDATE check_rollups SET latency_histogram = '{}' WHERE latency_histogram = '[]'")


def downgrade() -> None:
    op.execute("UPDATE check_rollups SET latency_histogram = '[]' WHERE latency_histogram = '{}'")
    with op.batch_alter_table("check_rollups") as batch:
        for name in LAST_COLUMNS:
            batch.drop_column(name)
        batch.alter_column(
            "latency_histogram", existing_type=JSON, existing_nullable=False, server_default=EMPTY_LIST
        )
    with op.batch_alter_table("check_results") as batch:
        batch.drop_column("details")
