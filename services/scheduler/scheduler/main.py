"""Entry point: ``python -m scheduler`` or ``openstatus-scheduler``."""

from __future__ import annotations

from openstatus_common.service import main_for
from scheduler.worker import run_scheduler


def main() -> None:
    main_for("scheduler", port=lambda settings: settings.scheduler_port, workers=[run_scheduler])
