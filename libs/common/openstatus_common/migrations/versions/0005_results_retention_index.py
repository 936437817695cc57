"""An index on ``check_results.scheduled_at`` alone, for retention.

On SQLite retention deletes rows older than the cutoff; without this index that DELETE scans the whole
table while holding the write lock. On PostgreSQL retention drops whole partitions, and the index (created on
the partitioned parent, so every partition gets one) also serves time-range reads across monitors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_check_results_scheduled_at", "check_results", ["scheduled_at"])


def downgrade() -> None:
    op.drop_index("ix_check_results_scheduled_at", table_name="check_results")
