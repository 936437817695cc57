"""Versioned message models carried on the bus (JSON on the wire)."""

from openstatus_common.messages.base import BusMessage
from openstatus_common.messages.checks import (
    CheckJob,
    CheckResult,
    CheckTarget,
    Timing,
    check_job_id,
)
from openstatus_common.messages.events import Event, EventKind

__all__ = [
    "BusMessage",
    "CheckJob",
    "CheckResult",
    "CheckTarget",
    "Event",
    "EventKind",
    "Timing",
    "check_job_id",
]
