"""Incident engine state: per-region streaks and verdicts, and the outbox of events not yet published.

- ``monitor_region_states``: one row per monitor and region (``rules.quorum.RegionState``), written in the
  transaction that decides on incidents, so the engine can restart mid-outage without losing count.
- ``event_outbox``: events committed with their decision and deleted once published; leftovers are
  published again (JetStream dedupes them by ``event_id``).

Frozen like 0001: plain SQLAlchemy types only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ZERO = sa.text("0")


def _ts(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _now(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "monitor_region_states",
        sa.Column(
            "monitor_id",
            sa.Integer(),
            sa.ForeignKey("monitors.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("region", sa.String(64), primary_key=True, nullable=False),
        sa.Column("verdict", sa.String(16), server_default="success", nullable=False),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        _ts("last_scheduled_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_latency_ms", sa.Integer(), nullable=True),
        sa.Column("error_streak", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("impaired_streak", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("available_streak", sa.Integer(), server_default=ZERO, nullable=False),
        sa.Column("success_streak", sa.Integer(), server_default=ZERO, nullable=False),
        _ts("error_streak_since"),
        _ts("error_since"),
        sa.Column("suppressed", sa.Boolean(), server_default=sa.false(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint("verdict IN ('success', 'degraded', 'error')", name="verdict"),
    )
    op.create_table(
        "event_outbox",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False, unique=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        _now("created_at"),
    )
    op.create_index(op.f("ix_event_outbox_monitor_id"), "event_outbox", ["monitor_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_event_outbox_monitor_id"), table_name="event_outbox")
    op.drop_table("event_outbox")
    op.drop_table("monitor_region_states")
