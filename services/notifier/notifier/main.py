"""Entry point: ``python -m notifier`` or ``openstatus-notifier``."""

from __future__ import annotations

from notifier.worker import run_notifier
from openstatus_common.service import main_for


def main() -> None:
    main_for("notifier", port=lambda settings: settings.notifier_port, workers=[run_notifier])
