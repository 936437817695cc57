"""Reading recorded check results (the recorder in incident-engine writes them): summaries, status, lists."""

from openstatus_common.results.queries import (
    SUMMARY_PERCENTILES,
    SUMMARY_RANGES,
    MonitorSummary,
    RegionStatus,
    ResultRow,
    latest_status,
    list_results,
    monitor_summary,
    summary_window,
)

__all__ = [
    "SUMMARY_PERCENTILES",
    "SUMMARY_RANGES",
    "MonitorSummary",
    "RegionStatus",
    "ResultRow",
    "latest_status",
    "list_results",
    "monitor_summary",
    "summary_window",
]
