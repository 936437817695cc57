"""Maintenances remember ``notify``: only a maintenance announced to subscribers gets their reminder.

Maintenances created before this migration did not record the choice: they are taken as not announced,
so nobody is mailed a reminder the operator may not have wanted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("maintenances") as batch:
        batch.add_column(sa.Column("notify", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("maintenances") as batch:
        batch.drop_column("notify")
