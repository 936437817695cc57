"""``api_keys``: ``os_...`` keys, stored as a SHA-256 hash; only the prefix is ever shown again."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, CreatedAt, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.workspace import Workspace


class ApiKey(CreatedAt, Base):
    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(256))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship(back_populates="api_keys", lazy="raise")
