"""``page_component_groups`` and ``page_components``: what a status page shows, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps

if TYPE_CHECKING:
    from openstatus_common.db.models.monitor import Monitor
    from openstatus_common.db.models.status_page import StatusPage


class PageComponentGroup(Timestamps, Base):
    __tablename__ = "page_component_groups"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    # Groups are ordered among the page's ungrouped components.
    order: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    default_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    page: Mapped[StatusPage] = relationship(back_populates="groups", lazy="raise")
    components: Mapped[list[PageComponent]] = relationship(back_populates="group", lazy="raise")


class PageComponent(Timestamps, Base):
    __tablename__ = "page_components"
    __table_args__ = (
        # One component per monitor and page; static components (monitor_id NULL) never collide.
        UniqueConstraint("page_id", "monitor_id"),
        CheckConstraint("type IN ('monitor', 'static')", name="type"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    order: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Deleting a group ungroups its components.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("page_component_groups.id", ondelete="SET NULL"), index=True
    )
    group_order: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    page: Mapped[StatusPage] = relationship(back_populates="components", lazy="raise")
    monitor: Mapped[Monitor | None] = relationship(lazy="raise")
    group: Mapped[PageComponentGroup | None] = relationship(back_populates="components", lazy="raise")
