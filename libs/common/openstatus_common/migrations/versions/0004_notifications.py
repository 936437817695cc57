"""Notification deliveries become the notifier's work queue.

- ``status`` gains ``sending``: a delivery claimed by a notifier and possibly in flight.
- ``next_attempt_at``: when a pending delivery is due (retries back off), or when a ``sending`` claim lapses.
- ``payload``: what to send (the event kind and its alert), so retries need nothing else.
- ``monitor_id`` / ``occurred_at``: alerts for one monitor reach a channel in the order they happened.
- An index on ``(status, next_attempt_at)`` for the notifier's "what is due" query.

Frozen like 0001: plain SQLAlchemy types. SQLite rebuilds the table (batch mode) to change the CHECK.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CHECK_NAME = "ck_notification_deliveries_status"
INDEX_NAME = "ix_notification_deliveries_status_next_attempt_at"


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.drop_constraint(op.f(CHECK_NAME), type_="check")
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("monitor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("payload", JSON, server_default=sa.text("'{}'"), nullable=False))
        batch.create_check_constraint(
            op.f(CHECK_NAME), sa.text("status IN ('pending', 'sending', 'sent', 'failed')")
        )
    op.create_index(INDEX_NAME, "notification_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index(INDEX_NAME, table_name="notification_deliveries")
    # Deliveries caught mid-send go back to pending: the old schema has no other way to say "not sent".
    op.execute("UPDATE notification_deliveries SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.drop_constraint(op.f(CHECK_NAME), type_="check")
        batch.drop_column("payload")
        batch.drop_column("occurred_at")
        batch.drop_column("monitor_id")
        batch.drop_column("next_attempt_at")
        batch.create_check_constraint(op.f(CHECK_NAME), sa.text("status IN ('pending', 'sent', 'failed')"))
