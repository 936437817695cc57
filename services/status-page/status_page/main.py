"""Entry point: ``python -m status_page`` or ``openstatus-status-page``."""

from __future__ import annotations

from openstatus_common.service import main_for
from status_page.app import create_app


def main() -> None:
    main_for("status-page", port=lambda settings: settings.status_page_port, app_factory=create_app)
