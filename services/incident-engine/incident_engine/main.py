"""Entry point: ``python -m incident_engine`` or ``openstatus-incident-engine``."""

from __future__ import annotations

from incident_engine.incidents import run_incident_engine
from incident_engine.recorder import run_partition_maintenance, run_recorder
from openstatus_common.service import main_for


def main() -> None:
    main_for(
        "incident-engine",
        port=lambda settings: settings.incident_engine_port,
        workers=[run_recorder, run_partition_maintenance, run_incident_engine],
    )
