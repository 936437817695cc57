"""REST adapter for status pages and their favicon: convert, call the service verb, convert back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Auth, Session, get_ctx
from api.errors import error_body
from api.pages import service as pages
from api.pages.schemas import PageIn, PageList, PageOut
from api.pagination import Limit, Offset
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import StatusPage
from openstatus_common.errors import ErrorCode, NotFound
from openstatus_common.outbox import publish_staged
from openstatus_common.service import ServiceContext

router = APIRouter(prefix="/page", tags=["page"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]
ICON_BODY = {
    "requestBody": {
        "required": True,
        "description": f"The image bytes, at most {pages.MAX_ICON_BYTES // 1024} KB. SVGs are sanitized.",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in pages.ICON_TYPES
        },
    }
}


async def _output(session: AsyncSession, ctx: ServiceContext, page: StatusPage) -> PageOut:
    links = (await pages.page_links(session, [page.id]))[page.id]
    return pages.to_output(page, links, ctx.settings)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a status page")
async def create_page(ctx: Ctx, auth: Auth, body: PageIn) -> PageOut:
    async with unit_of_work(ctx.sessions) as session:
        page, events = await pages.create_page(session, auth, data=body, settings=ctx.settings)
        output = await _output(session, ctx, page)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.get("", summary="List status pages")
async def list_pages(
    ctx: Ctx,
    session: Session,
    auth: Auth,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageList:
    rows, total = await pages.list_pages(session, auth, limit=limit, offset=offset)
    links = await pages.page_links(session, [row.id for row in rows])
    return PageList(
        items=[pages.to_output(row, links[row.id], ctx.settings) for row in rows],
        totalSize=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{page_id}", summary="Get a status page")
async def get_page(ctx: Ctx, session: Session, auth: Auth, page_id: int) -> PageOut:
    return await _output(session, ctx, await pages.get_page(session, auth, page_id))


@router.patch("/{page_id}", summary="Update a status page (only the fields given)")
async def update_page(ctx: Ctx, auth: Auth, page_id: int, body: Annotated[dict[str, Any], Body()]) -> PageOut:
    async with unit_of_work(ctx.sessions) as session:
        page, events = await pages.update_page(session, auth, page_id, changes=body, settings=ctx.settings)
        output = await _output(session, ctx, page)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.delete("/{page_id}", summary="Delete a status page and everything on it")
async def delete_page(ctx: Ctx, auth: Auth, page_id: int) -> dict[str, bool]:
    async with unit_of_work(ctx.sessions) as session:
        events = await pages.delete_page(session, auth, page_id)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return {"success": True}


@router.post(
    "/{page_id}/custom-domain/verify",
    summary="Check the custom domain's TXT record; once found, the page answers at the domain",
)
async def verify_custom_domain(ctx: Ctx, auth: Auth, page_id: int) -> PageOut:
    events = await pages.verify_custom_domain(ctx.sessions, auth, page_id, settings=ctx.settings)
    await publish_staged(ctx.bus, ctx.sessions, events)
    async with ctx.sessions() as session:
        return await _output(session, ctx, await pages.get_page(session, auth, page_id))


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is longer than ``limit`` (never buffered beyond that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.put(
    "/{page_id}/icon",
    summary="Upload the page's favicon (raw body: PNG, ICO or SVG, at most 100 KB)",
    openapi_extra=ICON_BODY,
    response_model=PageOut,
)
async def put_icon(ctx: Ctx, auth: Auth, page_id: int, request: Request) -> PageOut | JSONResponse:
    data = await _read_body(request, pages.MAX_ICON_BYTES)
    if data is None:
        message = f"icon: must be at most {pages.MAX_ICON_BYTES // 1024} KB"
        body = error_body(
            ErrorCode.INVALID_ARGUMENT.value, message, field="icon", maxBytes=pages.MAX_ICON_BYTES
        )
        return JSONResponse(body, status_code=413)
    async with unit_of_work(ctx.sessions) as session:
        page, events = await pages.set_icon(
            session, auth, page_id, data=data, content_type=request.headers.get("content-type", "")
        )
        output = await _output(session, ctx, page)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output


@router.get(
    "/{page_id}/icon",
    summary="Download the page's favicon as stored",
    response_class=Response,
    responses={200: {"content": {media_type: {} for media_type in pages.ICON_TYPES}}},
)
async def get_icon(session: Session, auth: Auth, page_id: int) -> Response:
    page = await pages.get_page(session, auth, page_id)
    if page.icon is None or page.icon_content_type is None:
        raise NotFound(f"page {page_id} has no icon", field="icon")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    return Response(page.icon, media_type=page.icon_content_type, headers=headers)


@router.delete("/{page_id}/icon", summary="Remove the page's favicon")
async def delete_icon(ctx: Ctx, auth: Auth, page_id: int) -> PageOut:
    async with unit_of_work(ctx.sessions) as session:
        page, events = await pages.delete_icon(session, auth, page_id)
        output = await _output(session, ctx, page)
    await publish_staged(ctx.bus, ctx.sessions, events)
    return output
