"""``monitor_region_states``: the incident engine's memory of each monitor's regions (``rules.quorum``).

One row per monitor and region: the latest applied check (by ``scheduled_at``, so redelivered and late
results are ignored), the streaks of consecutive outcomes and the region's verdict. The engine updates it in
the same transaction as the incident it decides on, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, UTCDateTime
from openstatus_common.db.models._columns import Timestamps

_OUTCOMES = "('success', 'degraded', 'error')"


class MonitorRegionState(Timestamps, Base):
    __tablename__ = "monitor_region_states"
    __table_args__ = (CheckConstraint(f"verdict IN {_OUTCOMES}", name="verdict"),)

    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The region's state after the thresholds: success, degraded or error.
    verdict: Mapped[str] = mapped_column(String(16), default="success", server_default="success")
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    # Consecutive checks that failed / were degraded or failed / did not fail / succeeded.
    error_streak: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    impaired_streak: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    available_streak: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    success_streak: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    error_streak_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # While the verdict is error: the first failing check of the streak that made it so.
    error_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The latest check was impaired (or changed the monitor's status) inside a maintenance window, so no
    # incident or alert came of it.
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
