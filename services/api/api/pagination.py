"""One way to list a page of rows: the slice asked for, and how many rows there are in all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")

# The query parameters of every list: at most 100 rows, from an offset a database can take (64 bits).
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1)]


async def page_of(
    session: AsyncSession,
    model: type[Row],
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """``limit`` rows of ``model`` from ``offset`` in ``order_by`` order, and the total that match ``where``."""
    total = (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
    rows = await session.execute(select(model).where(*where).order_by(*order_by).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)
