"""``check_rollups``: hourly and daily counts and latency histograms per monitor and region.

Histogram buckets add up across rows, so percentiles over any range come from summing rows, never raw results.
Each row also keeps the newest result of its bucket (``last_*``): the newest daily row of a region is that
region's latest status, and the newest hourly row in a range gives its last ping, with no raw rows read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, JSONType, UTCDateTime

ROLLUP_RANGE_INDEX = "ix_check_rollups_granularity_monitor_id_bucket_start"


class CheckRollup(Base):
    __tablename__ = "check_rollups"
    __table_args__ = (
        CheckConstraint("granularity IN ('hour', 'day')", name="granularity"),
        # Status pages read one granularity for many monitors over a range (the primary key leads with the
        # region, which they don't filter on); the counts ride along so neither database visits the table.
        Index(
            ROLLUP_RANGE_INDEX,
            "granularity",
            "monitor_id",
            "bucket_start",
            "success_count",
            "degraded_count",
            "error_count",
        ),
    )

    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    granularity: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    success_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    degraded_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Sparse counts per latency bucket, {str(bucket index): count}; the buckets are fixed in rules.latency.
    latency_histogram: Mapped[dict[str, int]] = mapped_column(
        JSONType, default=dict, server_default=text("'{}'")
    )
    # The newest result counted in this bucket (by scheduled_at).
    last_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
