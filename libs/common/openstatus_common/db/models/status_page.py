"""``status_pages``: the public pages, served by slug or by custom domain."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Index, LargeBinary, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openstatus_common.db.base import Base, JSONType, UTCDateTime
from openstatus_common.db.models._columns import NEVER_REUSE_IDS, Timestamps, workspace_fk

if TYPE_CHECKING:
    from openstatus_common.db.models.maintenance import Maintenance
    from openstatus_common.db.models.page_component import PageComponent, PageComponentGroup
    from openstatus_common.db.models.page_subscriber import PageSubscriber
    from openstatus_common.db.models.status_report import StatusReport
    from openstatus_common.db.models.workspace import Workspace


VERIFIED_DOMAIN_INDEX = "uq_status_pages_verified_custom_domain"


class StatusPage(Timestamps, Base):
    __tablename__ = "status_pages"
    __table_args__ = (
        # Any page may claim a domain; only the one whose owner proved it (a DNS TXT record) holds it.
        Index(
            VERIFIED_DOMAIN_INDEX,
            "custom_domain",
            unique=True,
            postgresql_where=text("custom_domain_verified_at IS NOT NULL"),
            sqlite_where=text("custom_domain_verified_at IS NOT NULL"),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    title: Mapped[str] = mapped_column(String(256))
    slug: Mapped[str] = mapped_column(String(256), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    homepage_url: Mapped[str | None] = mapped_column(String(2048))
    # May be a mailto: link.
    contact_url: Mapped[str | None] = mapped_column(String(2048))
    # Served only once verified: the owner publishes ``custom_domain_token`` at ``_openstatus.<domain>``.
    custom_domain: Mapped[str | None] = mapped_column(String(256), index=True)
    custom_domain_token: Mapped[str | None] = mapped_column(String(64))
    custom_domain_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    icon: Mapped[bytes | None] = mapped_column(LargeBinary)
    icon_content_type: Mapped[str | None] = mapped_column(String(128))
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "public" | "password" | "email-domain" | "ip-restriction"
    access_type: Mapped[str] = mapped_column(String(32), default="public", server_default="public")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    auth_email_domains: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    allowed_ip_ranges: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    allow_index: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    theme: Mapped[str] = mapped_column(String(32), default="default", server_default="default")
    color_scheme: Mapped[str] = mapped_column(String(16), default="system", server_default="system")
    default_locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    locales: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    white_label: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The uptime tracker: {"barType": "absolute"|"manual", "cardType": "duration"|"requests",
    # "showUptime": bool}; None means the defaults (absolute, requests, shown).
    tracker: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    @property
    def served_domain(self) -> str | None:
        """The custom domain the page answers at: only a verified one."""
        return self.custom_domain if self.custom_domain_verified_at is not None else None

    workspace: Mapped[Workspace] = relationship(back_populates="status_pages", lazy="raise")
    groups: Mapped[list[PageComponentGroup]] = relationship(
        back_populates="page", lazy="raise", passive_deletes=True
    )
    components: Mapped[list[PageComponent]] = relationship(
        back_populates="page", lazy="raise", passive_deletes=True
    )
    status_reports: Mapped[list[StatusReport]] = relationship(
        back_populates="page", lazy="raise", passive_deletes=True
    )
    maintenances: Mapped[list[Maintenance]] = relationship(
        back_populates="page", lazy="raise", passive_deletes=True
    )
    subscribers: Mapped[list[PageSubscriber]] = relationship(
        back_populates="page", lazy="raise", passive_deletes=True
    )
