"""Domain events on the EVENTS stream (subject ``events.<kind>``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from openstatus_common.messages.base import BusMessage, UtcDatetime


class EventKind(StrEnum):
    MONITOR_ERROR = "monitor.error"
    MONITOR_DEGRADED = "monitor.degraded"
    MONITOR_RECOVERED = "monitor.recovered"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_RESOLVED = "incident.resolved"
    MONITOR_CHANGED = "monitor.changed"
    # Status pages. ``data`` carries ``page_id`` (and the report, update, maintenance or subscriber id);
    # report and maintenance events also carry ``notify``: whether subscribers are mailed.
    PAGE_CHANGED = "page.changed"
    REPORT_PUBLISHED = "report.published"
    REPORT_UPDATED = "report.updated"
    REPORT_DELETED = "report.deleted"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled"
    MAINTENANCE_UPDATED = "maintenance.updated"
    MAINTENANCE_DELETED = "maintenance.deleted"
    SUBSCRIBER_PENDING = "subscriber.pending"


class Event(BusMessage):
    event_id: str
    kind: EventKind
    occurred_at: UtcDatetime
    workspace_id: int
    monitor_id: int | None = None
    data: dict[str, Any] = {}


class MonitorRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    name: str
    url: str


class MonitorAlert(BaseModel):
    """``Event.data`` of monitor.error / monitor.degraded / monitor.recovered: what an alert says.

    The first six fields are exactly the webhook payload of seed page 25 (camelCase, ``cronTimestamp`` in
    epoch milliseconds); the rest give other channels their details.
    """

    model_config = ConfigDict(frozen=True)
    monitor: MonitorRef
    cronTimestamp: int
    status: Literal["error", "degraded", "recovered"]
    statusCode: int | None = None
    latency: int | None = None
    errorMessage: str | None = None
    regions: list[str] = []
    regionErrors: dict[str, str] = {}
    incidentId: int | None = None
    startedAt: UtcDatetime | None = None

    def webhook_payload(self) -> dict[str, Any]:
        """The exact webhook body: absent optional fields are left out, not sent as null."""
        payload: dict[str, Any] = {
            "monitor": self.monitor.model_dump(),
            "cronTimestamp": self.cronTimestamp,
            "status": self.status,
        }
        for key in ("statusCode", "latency", "errorMessage"):
            value = getattr(self, key)
            if value is not None:
                payload[key] = value
        return payload
