"""Domain events on the EVENTS stream (subject ``events.<kind>``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from openstatus_common.messages.base import BusMessage, UtcDatetime


class EventKind(StrEnum):
    MONITOR_ERROR = "monitor.error"
    MONITOR_DEGRADED = "monitor.degraded"
    MONITOR_RECOVERED = "monitor.recovered"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_RESOLVED = "incident.resolved"
    MONITOR_CHANGED = "monitor.changed"
    REPORT_PUBLISHED = "report.published"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled"
    SUBSCRIBER_PENDING = "subscriber.pending"


class Event(BusMessage):
    event_id: str
    kind: EventKind
    occurred_at: UtcDatetime
    workspace_id: int
    monitor_id: int | None = None
    data: dict[str, Any] = {}
