"""Status pages: subscriber mail deliveries and the maintenance reminder mark.

- ``subscriber_deliveries``: one row per (message, subscriber), the notifier's work queue for page mail.
- ``maintenances.reminder_sent_at``: the "starts soon" reminder goes out once per window.
- an index on ``check_rollups`` (granularity, monitor_id, bucket_start), with the counts so it covers the read: a
  status page's 90 days of daily counts for all its monitors, without walking every hourly row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
ROLLUP_RANGE_INDEX = "ix_check_rollups_granularity_monitor_id_bucket_start"


def upgrade() -> None:
    op.create_table(
        "subscriber_deliveries",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column(
            "subscriber_id",
            sa.Integer(),
            sa.ForeignKey("page_subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("payload", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("key", "subscriber_id"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
    )
    op.create_index(
        op.f("ix_subscriber_deliveries_subscriber_id"), "subscriber_deliveries", ["subscriber_id"]
    )
    op.create_index(
        "ix_subscriber_deliveries_status_next_attempt_at",
        "subscriber_deliveries",
        ["status", "next_attempt_at"],
    )
    with op.batch_alter_table("maintenances") as batch:
        batch.add_column(sa.Column("reminder_sent_at", TIMESTAMP, nullable=True))
    op.create_index(
        ROLLUP_RANGE_INDEX,
        "check_rollups",
        ["granularity", "monitor_id", "bucket_start", "success_count", "degraded_count", "error_count"],
    )


def downgrade() -> None:
    op.drop_index(ROLLUP_RANGE_INDEX, table_name="check_rollups")
    with op.batch_alter_table("maintenances") as batch:
        batch.drop_column("reminder_sent_at")
    op.drop_index("ix_subscriber_deliveries_status_next_attempt_at", table_name="subscriber_deliveries")
    op.drop_index(op.f("ix_subscriber_deliveries_subscriber_id"), table_name="subscriber_deliveries")
    op.drop_table("subscriber_deliveries")
