"""``workspaces``: the tenant. Every other row belongs to exactly one workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps

if TYPE_CHECKING:
    from openstatus_common.db.models.api_key import ApiKey
    from openstatus_common.db.models.monitor import Monitor
    from openstatus_common.db.models.notification_channel import NotificationChannel
    from openstatus_common.db.models.status_page import StatusPage


class Workspace(Timestamps, Base):
    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    slug: Mapped[str] = mapped_column(String(256), unique=True)
    plan: Mapped[str] = mapped_column(String(32), default="free", server_default="free")
    # Plan limits with the self-host doc's keys ("monitors", "periodicity", "status-pages", ...).
    limits: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))

    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="workspace", lazy="raise", passive_deletes=True
    )
    monitors: Mapped[list[Monitor]] = relationship(
        back_populates="workspace", lazy="raise", passive_deletes=True
    )
    status_pages: Mapped[list[StatusPage]] = relationship(
        back_populates="workspace", lazy="raise", passive_deletes=True
    )
    notification_channels: Mapped[list[NotificationChannel]] = relationship(
        back_populates="workspace", lazy="raise", passive_deletes=True
    )
