"""``page_subscribers``: email subscriptions, double opt-in (``accepted_at``), one-click unsubscribe."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps

if TYPE_CHECKING:
    from openstatus_common.db.models.status_page import StatusPage


class PageSubscriber(Timestamps, Base):
    __tablename__ = "page_subscribers"
    __table_args__ = (UniqueConstraint("page_id", "email"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    # Secret in the confirm and unsubscribe links.
    token: Mapped[str] = mapped_column(String(128), unique=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    page: Mapped[StatusPage] = relationship(back_populates="subscribers", lazy="raise")
