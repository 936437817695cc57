"""``check_results``: one row per check result from the bus. High volume, time-partitioned, kept for a while.

On PostgreSQL the table is ``PARTITION BY RANGE (scheduled_at)`` with one partition per UTC day (see
``db.partitions``), which is why ``scheduled_at`` is part of the primary key. The result id from the bus makes
re-deliveries harmless: insert with ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, JSONType, UTCDateTime
from openstatus_common.db.models._columns import CreatedAt


class CheckResult(CreatedAt, Base):
    __tablename__ = "check_results"
    __table_args__ = (
        Index(None, "monitor_id", "scheduled_at"),
        # Retention (db.partitions) deletes by time alone on SQLite.
        Index(None, "scheduled_at"),
        CheckConstraint("outcome IN ('success', 'degraded', 'error')", name="outcome"),
        CheckConstraint(""""trigger" IN ('cron', 'api')""", name="trigger"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    # Denormalised from the monitor so per-workspace queries need no join.
    workspace_id: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    latency_ms: Mapped[int] = mapped_column(Integer)
    # {"dns": ms, "connect": ms, "tls": ms, "ttfb": ms, "transfer": ms}
    timing: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    trigger: Mapped[str] = mapped_column(String(8), default="cron", server_default="cron")
    # What the check saw beyond the columns above, shown by the results API:
    # {"finished_at": iso, "response_headers": {...}, "dns_records": {...}, "certificate_expires_at": iso}
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
