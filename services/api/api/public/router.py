"""``GET /public/status/{slug}``: the page's status in the shape the openstatus React widget reads.

No key needed, only public pages answer. The status comes from the same read model the pages use, kept a
few seconds per page so a widget on a busy site costs one load per window, not one per visitor.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openstatus_common.db.base import utcnow
from openstatus_common.pages.snapshot import find_page_id, load_snapshot
from openstatus_common.service import ServiceContext

router = APIRouter(tags=["public"])

CACHE_SECONDS = 5.0
CACHE_STATE = "public_status_cache"
CACHE_ENTRIES = 10_000


@router.get("/public/status/{slug}", summary="Status of a public page, for the openstatus widget")
async def public_status(slug: str, request: Request) -> JSONResponse:
    ctx: ServiceContext = request.app.state.ctx
    key = slug.lower()
    cache: dict[str, tuple[float, int, str]] = getattr(request.app.state, CACHE_STATE, None) or {}
    setattr(request.app.state, CACHE_STATE, cache)
    cached = cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return _answer(cached[1], cached[2])
    async with ctx.sessions() as session:
        page_id = await find_page_id(session, slug=key)
        # The status needs open incidents, reports and maintenance, not the 90-day trackers: one day.
        snapshot = (
            await load_snapshot(session, page_id, now=utcnow(), days=1) if page_id is not None else None
        )
    if snapshot is None or snapshot.page.access_type != "public":
        code, status = 404, "unknown"
    else:
        code, status = 200, snapshot.widget_status
    if len(cache) >= CACHE_ENTRIES:
        cache.clear()  # unknown slugs must not grow memory without bound
    cache[key] = (time.monotonic(), code, status)
    return _answer(code, status)


def _answer(code: int, status: str) -> JSONResponse:
    return JSONResponse(
        {"status": status},
        status_code=code,
        headers={
            "Cache-Control": f"public, max-age={int(CACHE_SECONDS)}",
            "Access-Control-Allow-Origin": "*",
        },
    )
