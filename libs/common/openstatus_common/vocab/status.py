"""Check outcomes, monitor statuses and status-report statuses."""

from __future__ import annotations

from enum import StrEnum

from openstatus_common.vocab._lookup import Vocabulary


class CheckOutcome(StrEnum):
    """The result of one check: success, degraded (slower than degradedAt) or error."""

    SUCCESS = "success"
    DEGRADED = "degraded"
    ERROR = "error"


class MonitorStatus(StrEnum):
    """A monitor's derived status (wire ``MONITOR_STATUS_*``)."""

    ACTIVE = "active"
    DEGRADED = "degraded"
    ERROR = "error"


class StatusReportStatus(StrEnum):
    """A status report's state (wire ``STATUS_REPORT_STATUS_*``); every status but resolved is active."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


CHECK_OUTCOME = Vocabulary(
    CheckOutcome,
    wire_prefix="REQUEST_STATUS_",
    numbers={CheckOutcome.SUCCESS: 1, CheckOutcome.ERROR: 2, CheckOutcome.DEGRADED: 3},
    aliases={"down": CheckOutcome.ERROR, "failure": CheckOutcome.ERROR, "up": CheckOutcome.SUCCESS},
    label="check outcome",
)
MONITOR_STATUS = Vocabulary(
    MonitorStatus,
    wire_prefix="MONITOR_STATUS_",
    numbers={MonitorStatus.ACTIVE: 1, MonitorStatus.DEGRADED: 2, MonitorStatus.ERROR: 3},
    label="monitor status",
)
STATUS_REPORT_STATUS = Vocabulary(
    StatusReportStatus,
    wire_prefix="STATUS_REPORT_STATUS_",
    numbers={s: i for i, s in enumerate(StatusReportStatus, start=1)},
    label="status report status",
)
