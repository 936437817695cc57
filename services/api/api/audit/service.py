"""The audit log: one row per mutation, written in the mutation's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.service import AuthContext
from openstatus_common.db.models import AuditLog


def record(
    session: AsyncSession,
    auth: AuthContext,
    *,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    transport: str = "rest",
    **metadata: Any,
) -> None:
    session.add(
        AuditLog(
            workspace_id=auth.workspace_id,
            actor_type="apiKey",
            actor_id=str(auth.key_id),
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            meta={"transport": transport, **metadata},
        )
    )
