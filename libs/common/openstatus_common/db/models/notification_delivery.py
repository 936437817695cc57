"""``notification_deliveries``: one row per (event, channel), so a re-delivered event never alerts twice.

The row is also the notifier's work item: ``payload`` is what to send, ``status`` moves
pending -> sending -> sent | failed (back to pending between retries), ``next_attempt_at`` is when it is due
(for a ``sending`` row: when its claim lapses, so a crashed notifier's work is picked up again), and
``monitor_id`` / ``occurred_at`` keep alerts for one monitor on one channel in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, BigIntId, JSONType, UTCDateTime
from openstatus_common.db.models._columns import Timestamps

if TYPE_CHECKING:
    from openstatus_common.db.models.notification_channel import NotificationChannel

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")


class NotificationDelivery(Timestamps, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel_id"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    monitor_id: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {"kind": "monitor.error", "alert": MonitorAlert}
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))

    channel: Mapped[NotificationChannel] = relationship(back_populates="deliveries", lazy="raise")
