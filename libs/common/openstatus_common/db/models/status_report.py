"""``status_reports``, their timeline (``status_report_updates``) and affected components."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, CreatedAt, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.page_component import PageComponent
    from openstatus_common.db.models.status_page import StatusPage

_STATUS_CHECK = "status IN ('investigating', 'identified', 'monitoring', 'resolved')"

status_report_components = Table(
    "status_report_components",
    Base.metadata,
    Column("report_id", ForeignKey("status_reports.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "component_id", ForeignKey("page_components.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class StatusReport(Timestamps, Base):
    __tablename__ = "status_reports"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="status"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    # The status of the latest update (vocab.StatusReportStatus).
    status: Mapped[str] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    page: Mapped[StatusPage] = relationship(back_populates="status_reports", lazy="raise")
    updates: Mapped[list[StatusReportUpdate]] = relationship(
        back_populates="report", lazy="raise", passive_deletes=True, order_by="StatusReportUpdate.date"
    )
    components: Mapped[list[PageComponent]] = relationship(
        secondary=status_report_components, lazy="raise", passive_deletes=True
    )


class StatusReportUpdate(CreatedAt, Base):
    __tablename__ = "status_report_updates"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="status"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("status_reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    # When it happened, as told by the author (may differ from created_at).
    date: Mapped[datetime] = mapped_column(UTCDateTime())

    report: Mapped[StatusReport] = relationship(back_populates="updates", lazy="raise")
