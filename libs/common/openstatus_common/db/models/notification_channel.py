"""``notification_channels`` (a configured Slack, email, webhook ...) and the monitor link table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.monitor import Monitor
    from openstatus_common.db.models.notification_delivery import NotificationDelivery
    from openstatus_common.db.models.workspace import Workspace

monitor_notifications = Table(
    "monitor_notifications",
    Base.metadata,
    Column("monitor_id", ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "channel_id", ForeignKey("notification_channels.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class NotificationChannel(Timestamps, Base):
    __tablename__ = "notification_channels"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(256))
    provider: Mapped[str] = mapped_column(String(32))
    # The provider's settings (webhook URL, email address, routing key ...).
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))

    workspace: Mapped[Workspace] = relationship(back_populates="notification_channels", lazy="raise")
    monitors: Mapped[list[Monitor]] = relationship(
        secondary=monitor_notifications,
        back_populates="notification_channels",
        lazy="raise",
        passive_deletes=True,
    )
    deliveries: Mapped[list[NotificationDelivery]] = relationship(
        back_populates="channel", lazy="raise", passive_deletes=True
    )
