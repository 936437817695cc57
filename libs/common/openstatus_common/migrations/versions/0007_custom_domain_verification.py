"""Custom domains are served only once their owner proves it with a DNS TXT record.

- ``status_pages.custom_domain_token``: the value the owner publishes at ``_openstatus.<domain>``.
- ``status_pages.custom_domain_verified_at``: when the record was found; NULL means claimed, not served.
- A claim no longer locks the domain: only a verified domain is unique, so nobody can squat a domain
  before its owner points DNS at us. Domains claimed before this migration were already being served:
  they count as verified.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = "uq_status_pages_custom_domain"
VERIFIED_INDEX = "uq_status_pages_verified_custom_domain"
LOOKUP_INDEX = "ix_status_pages_custom_domain"
VERIFIED = sa.text("custom_domain_verified_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("status_pages") as batch:
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.add_column(sa.Column("custom_domain_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("custom_domain_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE status_pages SET custom_domain_verified_at = updated_at WHERE custom_domain IS NOT NULL"
    )
    op.create_index(LOOKUP_INDEX, "status_pages", ["custom_domain"])
    op.create_index(
        VERIFIED_INDEX,
        "status_pages",
        ["custom_domain"],
        unique=True,
        postgresql_where=VERIFIED,
        sqlite_where=VERIFIED,
    )


def downgrade() -> None:
    # The old schema lets one page hold a domain: unverified claims are let go.
    op.execute("UPDATE status_pages SET custom_domain = NULL WHERE custom_domain_verified_at IS NULL")
    op.drop_index(VERIFIED_INDEX, table_name="status_pages")
    op.drop_index(LOOKUP_INDEX, table_name="status_pages")
    with op.batch_alter_table("status_pages") as batch:
        batch.drop_column("custom_domain_verified_at")
        batch.drop_column("custom_domain_token")
        batch.create_unique_constraint(OLD_UNIQUE, ["custom_domain"])
