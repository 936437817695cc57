"""Column shapes shared by many tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from openstatus_common.db.base import UTCDateTime, utcnow

# Table options of every table whose ids leave the database (links, event ids, mail keys): SQLite must never
# hand such an id out twice (migration 0009). PostgreSQL sequences never do.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def workspace_fk(*, index: bool = True) -> Mapped[int]:
    """``workspace_id``: every tenant-owned row dies with its workspace."""
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=index)
