"""Entry point: ``python -m api`` or ``openstatus-api``."""

from __future__ import annotations

from api.app import create_app
from openstatus_common.service import main_for


def main() -> None:
    main_for("api", port=lambda settings: settings.api_port, app_factory=create_app)
