"""Domain vocabulary: one table per concept, each accepting every surface's spelling."""

from openstatus_common.vocab.assertions import (
    COMPARATORS_BY_KIND,
    NUMBER_COMPARATOR,
    RECORD_COMPARATOR,
    STRING_COMPARATOR,
    AssertionKind,
    Comparator,
    DnsRecordType,
    parse_comparator,
)
from openstatus_common.vocab.http import HTTP_METHOD, METHODS_WITH_BODY, HttpMethod
from openstatus_common.vocab.periodicity import PERIODICITY, Periodicity
from openstatus_common.vocab.regions import REGIONS, Region, RegionInfo, parse_region
from openstatus_common.vocab.status import (
    CHECK_OUTCOME,
    MONITOR_STATUS,
    STATUS_REPORT_STATUS,
    CheckOutcome,
    MonitorStatus,
    StatusReportStatus,
)

__all__ = [
    "CHECK_OUTCOME",
    "COMPARATORS_BY_KIND",
    "HTTP_METHOD",
    "METHODS_WITH_BODY",
    "MONITOR_STATUS",
    "NUMBER_COMPARATOR",
    "PERIODICITY",
    "RECORD_COMPARATOR",
    "REGIONS",
    "STATUS_REPORT_STATUS",
    "STRING_COMPARATOR",
    "AssertionKind",
    "CheckOutcome",
    "Comparator",
    "DnsRecordType",
    "HttpMethod",
    "MonitorStatus",
    "Periodicity",
    "Region",
    "RegionInfo",
    "StatusReportStatus",
    "parse_comparator",
    "parse_region",
]
