"""Initial schema: workspaces, monitors, results and rollups, incidents, notifications, status pages.

On PostgreSQL ``check_results`` is ``PARTITION BY RANGE (scheduled_at)`` with a DEFAULT partition as a safety
net and daily partitions for yesterday through a week ahead; ``openstatus_common.db.partitions`` keeps
creating them. On SQLite it is an ordinary table.

This file is frozen: it uses plain SQLAlchemy types (``DateTime(timezone=True)`` is what ``UTCDateTime``
stores) so later changes to the models cannot change what it does.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
EMPTY_LIST = sa.text("'[]'")
EMPTY_OBJECT = sa.text("'{}'")
REPORT_STATUS_CHECK = "status IN ('investigating', 'identified', 'monitoring', 'resolved')"

# Tables in creation order; downgrade drops them in reverse.
TABLES = (
    "workspaces",
    "api_keys",
    "audit_log",
    "monitors",
    "notification_channels",
    "status_pages",
    "check_results",
    "check_rollups",
    "incidents",
    "maintenances",
    "monitor_notifications",
    "notification_deliveries",
    "page_component_groups",
    "page_subscribers",
    "status_reports",
    "page_components",
    "status_report_updates",
    "maintenance_components",
    "status_report_components",
)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _timestamps() -> list[sa.Column[datetime]]:
    return [
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _workspace_id() -> sa.Column[int]:
    return _fk("workspace_id", "workspaces.id")


def _link_table(name: str, left: tuple[str, str], right: tuple[str, str]) -> None:
    op.create_table(
        name,
        sa.Column(left[0], sa.Integer(), sa.ForeignKey(left[1], ondelete="CASCADE"), primary_key=True),
        sa.Column(right[0], sa.Integer(), sa.ForeignKey(right[1], ondelete="CASCADE"), primary_key=True),
    )
    op.create_index(op.f(f"ix_{name}_{right[0]}"), name, [right[0]])


def upgrade() -> None:
    op.create_table(
        "workspaces",
        _id(),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("slug", sa.String(256), nullable=False, unique=True),
        sa.Column("plan", sa.String(32), server_default="free", nullable=False),
        sa.Column("limits", JSON, server_default=EMPTY_OBJECT, nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "api_keys",
        _id(),
        _workspace_id(),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", JSON, nullable=False),
        _ts("last_used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        _created_at(),
    )
    op.create_index(op.f("ix_api_keys_workspace_id"), "api_keys", ["workspace_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, primary_key=True),
        _workspace_id(),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=True),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=True),
        sa.Column("metadata", JSON, server_default=EMPTY_OBJECT, nullable=False),
        _created_at(),
    )
    op.create_index(op.f("ix_audit_log_workspace_id_created_at"), "audit_log", ["workspace_id", "created_at"])

    op.create_table(
        "monitors",
        _id(),
        _workspace_id(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("periodicity", sa.String(8), nullable=False),
        sa.Column("method", sa.String(16), server_default="GET", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("headers", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("timeout_ms", sa.Integer(), server_default=sa.text("45000"), nullable=False),
        sa.Column("retry", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("follow_redirects", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("degraded_at_ms", sa.Integer(), nullable=True),
        sa.Column("regions", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("assertions", JSON, server_default=EMPTY_OBJECT, nullable=False),
        sa.Column("open_telemetry", JSON, nullable=True),
        sa.Column("quorum", sa.Integer(), nullable=True),
        sa.Column("failure_threshold", sa.Integer(), nullable=True),
        sa.Column("success_threshold", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        _ts("deleted_at", nullable=True),
        *_timestamps(),
        sa.CheckConstraint("kind IN ('http', 'tcp', 'dns')", name="kind"),
    )
    op.create_index(op.f("ix_monitors_workspace_id"), "monitors", ["workspace_id"])
    op.create_index(op.f("ix_monitors_active"), "monitors", ["active"])

    op.create_table(
        "notification_channels",
        _id(),
        _workspace_id(),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("config", JSON, server_default=EMPTY_OBJECT, nullable=False),
        *_timestamps(),
    )
    op.create_index(op.f("ix_notification_channels_workspace_id"), "notification_channels", ["workspace_id"])

    op.create_table(
        "status_pages",
        _id(),
        _workspace_id(),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("slug", sa.String(256), nullable=False, unique=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("homepage_url", sa.String(2048), nullable=True),
        sa.Column("contact_url", sa.String(2048), nullable=True),
        sa.Column("custom_domain", sa.String(256), nullable=True, unique=True),
        sa.Column("icon", sa.LargeBinary(), nullable=True),
        sa.Column("icon_content_type", sa.String(128), nullable=True),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("access_type", sa.String(32), server_default="public", nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("auth_email_domains", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("allowed_ip_ranges", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("allow_index", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("theme", sa.String(32), server_default="default", nullable=False),
        sa.Column("color_scheme", sa.String(16), server_default="system", nullable=False),
        sa.Column("default_locale", sa.String(16), server_default="en", nullable=False),
        sa.Column("locales", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("white_label", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("tracker", JSON, nullable=True),
        *_timestamps(),
    )
    op.create_index(op.f("ix_status_pages_workspace_id"), "status_pages", ["workspace_id"])

    _create_check_results()

    op.create_table(
        "check_rollups",
        sa.Column(
            "monitor_id", sa.Integer(), sa.ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("granularity", sa.String(8), primary_key=True),
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("success_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("degraded_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("latency_sum_ms", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("latency_histogram", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.CheckConstraint("granularity IN ('hour', 'day')", name="granularity"),
    )

    op.create_table(
        "incidents",
        _id(),
        _workspace_id(),
        _fk("monitor_id", "monitors.id"),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        _ts("started_at"),
        _ts("resolved_at", nullable=True),
        _ts("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(256), nullable=True),
        sa.Column("auto_resolved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("regions", JSON, server_default=EMPTY_LIST, nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("cause", JSON, nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
    )
    op.create_index(op.f("ix_incidents_workspace_id"), "incidents", ["workspace_id"])
    op.create_index(op.f("ix_incidents_monitor_id"), "incidents", ["monitor_id"])
    # At most one open incident per monitor, whichever engine replica gets there first.
    op.create_index(
        "uq_incidents_monitor_id_open",
        "incidents",
        ["monitor_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "maintenances",
        _id(),
        _workspace_id(),
        _fk("page_id", "status_pages.id"),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        _ts("starts_at"),
        _ts("ends_at"),
        *_timestamps(),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )
    op.create_index(op.f("ix_maintenances_workspace_id"), "maintenances", ["workspace_id"])
    op.create_index(op.f("ix_maintenances_page_id"), "maintenances", ["page_id"])

    _link_table(
        "monitor_notifications", ("monitor_id", "monitors.id"), ("channel_id", "notification_channels.id")
    )

    op.create_table(
        "notification_deliveries",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        _fk("channel_id", "notification_channels.id"),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("sent_at", nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("event_id", "channel_id"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    )
    op.create_index(op.f("ix_notification_deliveries_channel_id"), "notification_deliveries", ["channel_id"])

    op.create_table(
        "page_component_groups",
        _id(),
        _fk("page_id", "status_pages.id"),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("default_open", sa.Boolean(), server_default=sa.false(), nullable=False),
        *_timestamps(),
    )
    op.create_index(op.f("ix_page_component_groups_page_id"), "page_component_groups", ["page_id"])

    op.create_table(
        "page_subscribers",
        _id(),
        _fk("page_id", "status_pages.id"),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token", sa.String(128), nullable=False, unique=True),
        _ts("accepted_at", nullable=True),
        _ts("unsubscribed_at", nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("page_id", "email"),
    )

    op.create_table(
        "status_reports",
        _id(),
        _workspace_id(),
        _fk("page_id", "status_pages.id"),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("resolved_at", nullable=True),
        *_timestamps(),
        sa.CheckConstraint(REPORT_STATUS_CHECK, name="status"),
    )
    op.create_index(op.f("ix_status_reports_workspace_id"), "status_reports", ["workspace_id"])
    op.create_index(op.f("ix_status_reports_page_id"), "status_reports", ["page_id"])

    op.create_table(
        "page_components",
        _id(),
        _fk("page_id", "status_pages.id"),
        sa.Column("type", sa.String(16), nullable=False),
        _fk("monitor_id", "monitors.id", nullable=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _fk("group_id", "page_component_groups.id", nullable=True, ondelete="SET NULL"),
        sa.Column("group_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("page_id", "monitor_id"),
        sa.CheckConstraint("type IN ('monitor', 'static')", name="type"),
    )
    op.create_index(op.f("ix_page_components_monitor_id"), "page_components", ["monitor_id"])
    op.create_index(op.f("ix_page_components_group_id"), "page_components", ["group_id"])

    op.create_table(
        "status_report_updates",
        _id(),
        _fk("report_id", "status_reports.id"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _ts("date"),
        _created_at(),
        sa.CheckConstraint(REPORT_STATUS_CHECK, name="status"),
    )
    op.create_index(op.f("ix_status_report_updates_report_id"), "status_report_updates", ["report_id"])

    _link_table(
        "maintenance_components",
        ("maintenance_id", "maintenances.id"),
        ("component_id", "page_components.id"),
    )
    _link_table(
        "status_report_components", ("report_id", "status_reports.id"), ("component_id", "page_components.id")
    )


def _create_check_results() -> None:
    op.create_table(
        "check_results",
        sa.Column("id", sa.String(255), primary_key=True),
        # Part of the key because PostgreSQL requires the partition key in every unique constraint.
        sa.Column("scheduled_at", sa.DateTime(timezone=True), primary_key=True),
        _fk("monitor_id", "monitors.id"),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(255), nullable=False),
        _ts("started_at"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("timing", JSON, nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("trigger", sa.String(8), server_default="cron", nullable=False),
        _created_at(),
        sa.CheckConstraint("outcome IN ('success', 'degraded', 'error')", name="outcome"),
        sa.CheckConstraint("\"trigger\" IN ('cron', 'api')", name="trigger"),
        # Ignored by SQLite; on PostgreSQL the table holds no rows itself, only its partitions do.
        postgresql_partition_by="RANGE (scheduled_at)",
    )
    # Created on the parent, so PostgreSQL creates it on every partition, present and future.
    op.create_index(
        op.f("ix_check_results_monitor_id_scheduled_at"), "check_results", ["monitor_id", "scheduled_at"]
    )
    if op.get_context().dialect.name != "postgresql":
        return
    # The safety net: rows for a day without a partition land here instead of failing the insert.
    op.execute("CREATE TABLE check_results_default PARTITION OF check_results DEFAULT")
    today = datetime.now(UTC).date()
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        low = datetime.combine(day, time.min, tzinfo=UTC)
        high = low + timedelta(days=1)
        op.execute(
            f"CREATE TABLE check_results_p{day:%Y%m%d} PARTITION OF check_results "
            f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
        )


def downgrade() -> None:
    # Dropping a table drops its indexes, and on PostgreSQL dropping check_results drops its partitions.
    for name in reversed(TABLES):
        op.drop_table(name)
