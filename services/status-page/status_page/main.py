"""Entry point: ``python -m status_page`` or ``openstatus-status-page``."""

from __future__ import annotations

from fastapi import FastAPI

from openstatus_common.service import ServiceContext, main_for
from status_page.app import create_app
from status_page.context import Pages
from status_page.freshness import listen


def main() -> None:
    made: dict[str, Pages] = {}

    def app_factory(ctx: ServiceContext) -> FastAPI:
        app = create_app(ctx)
        made["pages"] = app.state.pages
        return app

    async def freshness(ctx: ServiceContext) -> None:
        await listen(ctx, made["pages"].store)

    main_for(
        "status-page",
        port=lambda settings: settings.status_page_port,
        app_factory=app_factory,
        workers=[freshness],
    )
