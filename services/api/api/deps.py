"""Request dependencies: the unit of work and the authenticated actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.service import AuthContext, authenticate
from openstatus_common.db.engine import unit_of_work
from openstatus_common.errors import PermissionDenied, Unauthenticated
from openstatus_common.service import ServiceContext

API_KEY_HEADER = "x-openstatus-key"


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def get_session(ctx: Annotated[ServiceContext, Depends(get_ctx)]) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed after the route returns, rolled back if it raises."""
    async with unit_of_work(ctx.sessions) as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


async def get_auth(
    ctx: Annotated[ServiceContext, Depends(get_ctx)],
    key: Annotated[str | None, Header(alias=API_KEY_HEADER, include_in_schema=False)] = None,
) -> AuthContext:
    """Authenticate in a short transaction of its own, so write routes can own theirs."""
    if not key:
        raise Unauthenticated(f"missing API key: send it in the {API_KEY_HEADER} header")
    async with unit_of_work(ctx.sessions) as session:
        return await authenticate(session, key)


Auth = Annotated[AuthContext, Depends(get_auth)]


async def require_write(auth: Auth) -> AuthContext:
    if not auth.can_write:
        raise PermissionDenied("this API key is read-only")
    return auth


WriteAuth = Annotated[AuthContext, Depends(require_write)]
