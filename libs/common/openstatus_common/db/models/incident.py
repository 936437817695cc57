"""``incidents``: opened and resolved automatically by the incident engine, one open incident per monitor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.monitor import Monitor

OPEN_INCIDENT_INDEX = "uq_incidents_monitor_id_open"


class Incident(Timestamps, Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        # The guard that keeps two engine replicas from opening the same incident twice.
        Index(
            OPEN_INCIDENT_INDEX,
            "monitor_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(256))
    auto_resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    regions: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    error_message: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    monitor: Mapped[Monitor] = relationship(back_populates="incidents", lazy="raise")
