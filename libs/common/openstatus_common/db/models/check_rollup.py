"""``check_rollups``: hourly and daily counts and latency histograms per monitor and region.

Histogram buckets add up across rows, so percentiles over any range come from summing rows, never raw results.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, JSONType, UTCDateTime


class CheckRollup(Base):
    __tablename__ = "check_rollups"
    __table_args__ = (CheckConstraint("granularity IN ('hour', 'day')", name="granularity"),)

    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    granularity: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    success_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    degraded_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Counts per latency bucket; the bucket bounds are fixed in code.
    latency_histogram: Mapped[list[int]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
