"""``subscriber_deliveries``: one row per (message, subscriber), so a re-delivered event never mails twice.

``key`` names what is mailed (``report.updated:<update id>``, ``maintenance.scheduled:<id>``,
``maintenance.reminder:<id>:<start>``, ``subscriber.confirm:<subscriber id>``); the row is the notifier's work
item, with the same status life cycle as ``notification_deliveries``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, BigIntId, JSONType, UTCDateTime
from openstatus_common.db.models._columns import Timestamps


class SubscriberDelivery(Timestamps, Base):
    __tablename__ = "subscriber_deliveries"
    __table_args__ = (
        UniqueConstraint("key", "subscriber_id"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_subscriber_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("page_subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What to send: {"subject": ..., "text": ..., "html": ...} or the facts to build it from.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
