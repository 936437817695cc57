"""``monitors``: HTTP, TCP and DNS checks. Deletion is soft (``deleted_at``) so history stays readable."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.incident import Incident
    from openstatus_common.db.models.notification_channel import NotificationChannel
    from openstatus_common.db.models.workspace import Workspace


class Monitor(Timestamps, Base):
    __tablename__ = "monitors"
    __table_args__ = (CheckConstraint("kind IN ('http', 'tcp', 'dns')", name="kind"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # HTTP: the URL; TCP: host:port; DNS: the name to resolve.
    url: Mapped[str] = mapped_column(String(2048))
    periodicity: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(16), default="GET", server_default="GET")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # [{"key": ..., "value": ...}, ...]
    headers: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    timeout_ms: Mapped[int] = mapped_column(Integer, default=45000, server_default=text("45000"))
    retry: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    follow_redirects: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    degraded_at_ms: Mapped[int | None] = mapped_column(Integer)
    regions: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # {"statusCode": [...], "body": [...], "header": [...], "record": [...]}
    assertions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    # {"endpoint": ..., "headers": [{"key": ..., "value": ...}]}
    open_telemetry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Incident rules; NULL means the engine's default.
    quorum: Mapped[int | None] = mapped_column(Integer)
    failure_threshold: Mapped[int | None] = mapped_column(Integer)
    success_threshold: Mapped[int | None] = mapped_column(Integer)
    # Derived from recent results (vocab.MonitorStatus).
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship(back_populates="monitors", lazy="raise")
    notification_channels: Mapped[list[NotificationChannel]] = relationship(
        secondary="monitor_notifications", back_populates="monitors", lazy="raise", passive_deletes=True
    )
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="monitor", lazy="raise", passive_deletes=True
    )
