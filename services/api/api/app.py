"""The API's ASGI app: routers are mounted here and nowhere else."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import register_error_handlers
from api.incidents.router import router as incidents_router
from api.maintenances.router import router as maintenances_router
from api.monitors.router import router as monitors_router
from api.notifications.router import router as notifications_router
from api.page_components.router import router as page_components_router
from api.pages.router import router as pages_router
from api.public.router import router as public_router
from api.status_reports.router import router as status_reports_router
from api.subscribers.router import router as subscribers_router
from api.workspaces.router import router as workspaces_router
from openstatus_common.http import RequestIdMiddleware
from openstatus_common.service import ServiceContext, health_router
from openstatus_common.tracing import http_telemetry


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(
        telemetry=http_telemetry(ctx.settings),
        title="openstatus API",
        version="1.0.0",
        description="Uptime monitoring and status pages. Authenticate with the `x-openstatus-key` header.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(RequestIdMiddleware)
    register_error_handlers(app)
    app.include_router(health_router(ctx))
    app.include_router(public_router)
    app.include_router(workspaces_router, prefix="/v1")
    app.include_router(monitors_router, prefix="/v1")
    app.include_router(incidents_router, prefix="/v1")
    app.include_router(notifications_router, prefix="/v1")
    app.include_router(pages_router, prefix="/v1")
    app.include_router(page_components_router, prefix="/v1")
    app.include_router(subscribers_router, prefix="/v1")
    app.include_router(status_reports_router, prefix="/v1")
    app.include_router(maintenances_router, prefix="/v1")
    return app
