"""Versioned message models carried on the bus (JSON on the wire)."""

from openstatus_common.messages.base import BusMessage
from openstatus_common.messages.checks import (
    CheckJob,
    CheckResult,
    CheckTarget,
    Timing,
    check_job_id,
)
from openstatus_common.messages.events import Event, EventKind, MonitorAlert, MonitorRef
from openstatus_common.messages.schedule import MONITORS_BUCKET, ScheduleEntry, monitor_key

__all__ = [
    "MONITORS_BUCKET",
    "BusMessage",
    "CheckJob",
    "CheckResult",
    "CheckTarget",
    "Event",
    "EventKind",
    "MonitorAlert",
    "MonitorRef",
    "ScheduleEntry",
    "Timing",
    "check_job_id",
    "monitor_key",
]
