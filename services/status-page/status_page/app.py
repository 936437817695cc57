"""The public status pages, rendered on the server with Jinja2 (autoescaped)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from openstatus_common.db.models import StatusPage
from openstatus_common.http import RequestIdMiddleware
from openstatus_common.service import ServiceContext, health_router

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(title="openstatus status pages", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router(ctx))

    @app.get("/{slug}", response_class=HTMLResponse)
    async def page(request: Request, slug: str) -> HTMLResponse:
        async with ctx.sessions() as session:
            found = (
                await session.execute(select(StatusPage).where(StatusPage.slug == slug, StatusPage.published))
            ).scalar_one_or_none()
        if found is None:
            raise HTTPException(status_code=404, detail="status page not found")
        return TEMPLATES.TemplateResponse(request, "page.html", {"page": found})

    return app
