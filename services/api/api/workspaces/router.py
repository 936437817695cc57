"""``GET /v1/whoami``: which workspace and key a request acts as."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Auth

router = APIRouter(tags=["workspace"])


class Actor(BaseModel):
    type: Literal["apiKey"] = "apiKey"
    keyId: str  # wire name, as in openstatus
    scopes: list[str]


class WhoAmI(BaseModel):
    name: str
    slug: str
    plan: str
    actor: Actor


@router.get("/whoami")
async def whoami(auth: Auth) -> WhoAmI:
    return WhoAmI(
        name=auth.workspace_name,
        slug=auth.workspace_slug,
        plan=auth.plan,
        actor=Actor(keyId=str(auth.key_id), scopes=list(auth.scopes) or ["write"]),
    )
