"""Entry point: ``python -m incident_engine`` or ``openstatus-incident-engine``."""

from __future__ import annotations

from openstatus_common.service import main_for


def main() -> None:
    main_for("incident-engine", port=lambda settings: settings.incident_engine_port)
