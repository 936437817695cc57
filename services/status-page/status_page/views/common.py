"""Rendering helpers every view uses: cached bodies with ETags, and HTML from the templates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from status_page.context import PageRequest

HTML = "text/html; charset=utf-8"


def cache_control(pr: PageRequest) -> str:
    if pr.snapshot.page.access_type == "public":
        return "public, max-age=0, must-revalidate"
    return "private, no-cache"


async def respond(
    pr: PageRequest,
    key: tuple[object, ...],
    render: Callable[[], Awaitable[tuple[bytes, str]]],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The body for ``key`` (rendered once per snapshot), with ETag and a 304 for a matching If-None-Match."""
    rendered = await pr.pages.store.rendered(pr.snapshot, (pr.path, pr.locale, pr.embed, *key), render)
    out_headers = {"ETag": rendered.etag, "Cache-Control": cache_control(pr), **(headers or {})}
    if pr.snapshot.stale:
        out_headers["X-Openstatus-Stale"] = "1"
    if not pr.snapshot.page.allow_index:
        out_headers["X-Robots-Tag"] = "noindex"
    if rendered.media_type == HTML and not pr.embed.enabled:
        # Only ?embed is meant for iframes: the full page (its forms) cannot be framed elsewhere.
        out_headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    if rendered.gzipped is not None:
        out_headers["Vary"] = "Accept-Encoding"
    if status_code == 200 and _matches(pr.request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=out_headers)
    body = rendered.body
    if rendered.gzipped is not None and "gzip" in pr.request.headers.get("accept-encoding", ""):
        body = rendered.gzipped
        out_headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=status_code, media_type=rendered.media_type, headers=out_headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or etag in (part.strip().removeprefix("W/") for part in header.split(","))


def forced_theme(pr: PageRequest) -> str | None:
    """``?theme=light|dark``, honoured only in embeds (seed page 10); anything else: the page's own."""
    theme = pr.request.query_params.get("theme", "").lower() if pr.embed.enabled else ""
    return theme if theme in ("light", "dark") else None


def html(pr: PageRequest, template: str, **values: Any) -> bytes:
    """A template rendered with the page's common context."""
    context = {
        "pr": pr,
        "snap": pr.snapshot,
        "page": pr.snapshot.page,
        "t": pr.t,
        "embed": pr.embed,
        "forced_theme": forced_theme(pr),
        **values,
    }
    return pr.pages.templates.get_template(template).render(context).encode()


async def html_response(
    pr: PageRequest, template: str, key: tuple[object, ...] = (), **values: Any
) -> Response:
    async def render() -> tuple[bytes, str]:
        # A big page takes tens of milliseconds to render: off the event loop, so cached pages keep flowing.
        return await asyncio.to_thread(html, pr, template, **values), HTML

    return await respond(pr, (template, forced_theme(pr), *key), render)


def plain_html(pr: PageRequest, template: str, *, status_code: int = 200, **values: Any) -> Response:
    """An uncached HTML response (forms, messages, errors)."""
    return Response(
        html(pr, template, **values),
        status_code=status_code,
        media_type=HTML,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": "frame-ancestors 'self'"},
    )
