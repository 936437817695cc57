"""``audit_log``: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import Base, BigIntId, JSONType
from openstatus_common.db.models._columns import CreatedAt, workspace_fk


class AuditLog(CreatedAt, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    workspace_id: Mapped[int] = workspace_fk(index=False)  # covered by (workspace_id, created_at)
    # "user" | "api_key" | "mcp" | "system"
    actor_type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(255))
    # e.g. "status_report.create"
    action: Mapped[str] = mapped_column(String(128))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    # ``metadata`` is reserved on declarative classes, so the attribute is ``meta``.
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, default=dict, server_default=text("'{}'")
    )
