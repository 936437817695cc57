"""``maintenances``: planned windows on a status page, and the components they affect."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.page_component import PageComponent
    from openstatus_common.db.models.status_page import StatusPage

maintenance_components = Table(
    "maintenance_components",
    Base.metadata,
    Column("maintenance_id", ForeignKey("maintenances.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "component_id", ForeignKey("page_components.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Maintenance(Timestamps, Base):
    __tablename__ = "maintenances"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Announced to the page's subscribers (``notify``): only then are they reminded before it starts.
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the notifier queued the "starts soon" reminder for subscribers (at most once per window).
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    page: Mapped[StatusPage] = relationship(back_populates="maintenances", lazy="raise")
    components: Mapped[list[PageComponent]] = relationship(
        secondary=maintenance_components, lazy="raise", passive_deletes=True
    )
