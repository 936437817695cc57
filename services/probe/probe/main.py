"""Entry point: ``python -m probe`` or ``openstatus-probe`` (one region per process: OPENSTATUS_REGION)."""

from __future__ import annotations

from openstatus_common.service import main_for


def main() -> None:
    main_for("probe", port=lambda settings: settings.probe_port)
