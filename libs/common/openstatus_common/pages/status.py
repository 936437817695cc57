"""What a page says about its components and itself (seed page 26), the one implementation of the rules.

A monitor component: an open incident (error) > an unresolved report on it, or the monitor's own degraded
state (degraded) > an ongoing maintenance (info) > operational (success). A static component follows only
reports and maintenances. The page's overall status is read off its components and its unresolved reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class ComponentStatus(StrEnum):
    SUCCESS = "success"
    DEGRADED = "degraded"
    ERROR = "error"
    INFO = "info"


class OverallStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


# The shape the openstatus React widget reads from GET /public/status/{slug}.
WidgetStatus = str


def component_status(
    *,
    is_monitor: bool,
    open_incident: bool,
    unresolved_report: bool,
    in_maintenance: bool,
    monitor_degraded: bool = False,
) -> ComponentStatus:
    if is_monitor and open_incident:
        return ComponentStatus.ERROR
    if unresolved_report or (is_monitor and monitor_degraded):
        return ComponentStatus.DEGRADED
    if in_maintenance:
        return ComponentStatus.INFO
    return ComponentStatus.SUCCESS


def overall_status(
    statuses: Iterable[ComponentStatus], *, unresolved_reports: bool, ongoing_maintenance: bool
) -> OverallStatus:
    """Every component down is a major outage, some a partial one; then degraded, then maintenance."""
    counted = list(statuses)
    errors = sum(1 for status in counted if status is ComponentStatus.ERROR)
    if errors and errors == len(counted):
        return OverallStatus.MAJOR_OUTAGE
    if errors:
        return OverallStatus.PARTIAL_OUTAGE
    if unresolved_reports or ComponentStatus.DEGRADED in counted:
        return OverallStatus.DEGRADED
    if ongoing_maintenance or ComponentStatus.INFO in counted:
        return OverallStatus.MAINTENANCE
    return OverallStatus.OPERATIONAL


def widget_status(overall: OverallStatus, *, unresolved_reports: bool) -> WidgetStatus:
    """The React widget's vocabulary: an unresolved report without an outage reads as an incident."""
    if overall is OverallStatus.DEGRADED:
        return "incident" if unresolved_reports else "degraded_performance"
    return {
        OverallStatus.OPERATIONAL: "operational",
        OverallStatus.PARTIAL_OUTAGE: "partial_outage",
        OverallStatus.MAJOR_OUTAGE: "major_outage",
        OverallStatus.MAINTENANCE: "under_maintenance",
        OverallStatus.UNKNOWN: "unknown",
    }[overall]


SEVERITY = {
    ComponentStatus.SUCCESS: 0,
    ComponentStatus.INFO: 1,
    ComponentStatus.DEGRADED: 2,
    ComponentStatus.ERROR: 3,
}


def worst(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.SUCCESS)
