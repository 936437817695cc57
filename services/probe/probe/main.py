"""Entry point: ``python -m probe`` or ``openstatus-probe`` (one region per process: OPENSTATUS_REGION)."""

from __future__ import annotations

from openstatus_common.service import main_for
from probe.worker import run_probe


def main() -> None:
    main_for("probe", port=lambda settings: settings.probe_port, workers=[run_probe], uses_database=False)
