"""The status-page service: one dispatcher finds the page (domain, subdomain or slug), the locale and the
route, applies the page's access control, and hands a ``PageRequest`` to the route's view."""

from __future__ import annotations

from html import escape
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from openstatus_common.http import RequestIdMiddleware
from openstatus_common.pages.snapshot import LOCALES, PageSnapshot
from openstatus_common.secrets import signing_key
from openstatus_common.service import ServiceContext, health_router
from status_page import access
from status_page.context import TEMPLATES_DIR, Embed, PageRequest, Pages
from status_page.i18n import Translator
from status_page.routes import match
from status_page.routing import path_target, target_for
from status_page.store import PageStore
from status_page.trackers import render_tracker
from status_page.views.common import plain_html

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
PAGES_STATE = "pages"


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(
        title="openstatus status pages",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # No request spans: page URLs carry secrets (?pw=, sign-in and subscription tokens).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(RequestIdMiddleware)
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    templates.env.globals["render_tracker"] = render_tracker
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)  # compiled now, not on the first visitor's request
    store = PageStore(lambda: ctx.sessions, cache_seconds=ctx.settings.status_page_cache_seconds)
    pages = Pages(
        ctx=ctx,
        settings=ctx.settings,
        store=store,
        templates=templates,
        signing_key=signing_key(ctx.settings),
    )
    app.state.pages = pages
    app.include_router(health_router(ctx))
    app.mount("/_static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/public/status/{slug}")
    async def public_status(slug: str) -> Response:
        """The openstatus React widget's endpoint: ``{"status": ...}``."""
        try:
            snapshot = await store.by_slug(slug)
        except Exception:
            return JSONResponse({"status": "unknown"}, status_code=503)
        if snapshot is None or snapshot.page.access_type != "public":
            return JSONResponse({"status": "unknown"}, status_code=404)
        return JSONResponse(
            {"status": snapshot.widget_status},
            headers={
                "Cache-Control": "public, max-age=0, must-revalidate",
                "Access-Control-Allow-Origin": "*",
            },
        )

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST"], include_in_schema=False)
    async def dispatch(request: Request, path: str) -> Response:
        return await _dispatch(pages, request)

    return app


async def _find(pages: Pages, request: Request) -> tuple[PageSnapshot, str, tuple[str, ...]] | None:
    target = target_for(request.headers.get("host", ""), request.url.path, pages.settings)
    if target is None:
        return None
    snapshot: PageSnapshot | None = None
    if target.domain is not None:
        snapshot = await pages.store.by_domain(target.domain)
        if snapshot is None:
            target = path_target(request.url.path)
            if target is None:
                return None
    if snapshot is None and target.slug is not None:
        snapshot = await pages.store.by_slug(target.slug)
    if snapshot is None:
        return None
    return snapshot, target.prefix, target.segments


async def _dispatch(pages: Pages, request: Request) -> Response:
    try:
        found = await _find(pages, request)
    except Exception as error:
        log.warning("pages.unavailable", error=repr(error))
        return _error(503, "This status page is temporarily unavailable. Please try again shortly.")
    if found is None:
        return _error(404, "Status page not found.")
    snapshot, prefix, segments = found
    page = snapshot.page
    locale = page.default_locale
    if segments and segments[0] in LOCALES:
        if segments[0] == page.default_locale or segments[0] not in page.locales:
            # as-needed: the default locale has no prefix; a locale the page does not offer falls back to it.
            rest = "/".join(segments[1:])
            target = prefix + ("/" + rest if rest else "") or "/"
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(target, status_code=308 if segments[0] == page.default_locale else 307)
        locale = segments[0]
        segments = segments[1:]
    path = "/".join(segments)
    matched = match(path)
    pr = PageRequest(
        request=request,
        pages=pages,
        snapshot=snapshot,
        locale=locale,
        prefix=prefix,
        path=path,
        embed=Embed.parse(request.query_params.get("embed")),
        t=Translator(locale),
        params=matched[1] if matched is not None else {},
    )
    if matched is None:
        return _page_error(pr, 404)
    route = matched[0]
    if request.method not in route.methods:
        return Response(status_code=405, headers={"Allow": ", ".join(sorted(route.methods))})
    if route.gated:
        denied = await access.check_access(pr)
        if denied is not None:
            return denied
    try:
        return await route.view(pr)
    except HTTPException as error:
        return _page_error(pr, error.status_code, str(error.detail))
    except Exception as error:  # a view that reads the database while it is down, or a bug
        log.exception("pages.view_failed", path=path, error=repr(error))
        return _error(503, "This page is temporarily unavailable. Please try again shortly.")


def _page_error(pr: PageRequest, status_code: int, detail: str | None = None) -> Response:
    """A 4xx inside a page: in its language, theme and header (without its navigation, as on a private page
    the visitor may not be signed in to), with a way back to the page."""
    if status_code == 404:
        return plain_html(pr, "message.html", status_code=404, title=pr.t("not_found"), message=None)
    # Other errors name what was wrong with the request (a field), which the detail says.
    return plain_html(pr, "message.html", status_code=status_code, title=pr.t("bad_request"), message=detail)


def _error(status_code: int, message: str) -> Response:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{escape(message)}</title><link rel=stylesheet href='/_static/style.css'>"
        f"<main class='container message'><h1>{status_code}</h1><p>{escape(message)}</p></main></html>"
    )
    return Response(
        body,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )
