"""Authenticating API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from openstatus_common.apikeys import can_write, hash_key
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import ApiKey, Workspace
from openstatus_common.errors import Unauthenticated

# Recording every use would turn each read into a write; once a minute is enough to show "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class AuthContext:
    workspace_id: int
    workspace_name: str
    workspace_slug: str
    plan: str
    key_id: int
    scopes: tuple[str, ...]

    @property
    def can_write(self) -> bool:
        return can_write(self.scopes)


async def authenticate(session: AsyncSession, plaintext: str) -> AuthContext:
    """Return who the key belongs to, or raise Unauthenticated (same message for unknown and revoked)."""
    row = (
        await session.execute(
            select(ApiKey, Workspace)
            .join(Workspace, Workspace.id == ApiKey.workspace_id)
            .where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("invalid API key")
    key, workspace = row
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        await session.flush()
    return AuthContext(
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        workspace_slug=workspace.slug,
        plan=workspace.plan,
        key_id=key.id,
        scopes=tuple(key.scopes or ()),
    )
