"""From a stored monitor to what probes and the scheduler need. One mapping, used by every service."""

from __future__ import annotations

from typing import Any

from openstatus_common.db.models import Monitor
from openstatus_common.messages.checks import AssertionSpec, CheckTarget, Header
from openstatus_common.messages.schedule import ScheduleEntry
from openstatus_common.vocab import PERIODICITY, HttpMethod, parse_comparator, parse_region
from openstatus_common.vocab.assertions import AssertionKind

# Stored assertion lists (Monitor.assertions) by JSON key, and the kind each holds.
ASSERTION_KEYS: dict[str, AssertionKind] = {
    "statusCode": AssertionKind.STATUS_CODE,
    "body": AssertionKind.BODY,
    "header": AssertionKind.HEADER,
    "record": AssertionKind.RECORD,
}


def check_target(monitor: Monitor) -> CheckTarget:
    assertions: list[AssertionSpec] = []
    for key, kind in ASSERTION_KEYS.items():
        for item in (monitor.assertions or {}).get(key, []):
            assertions.append(_assertion(kind, item))
    return CheckTarget(
        kind=monitor.kind,
        url=monitor.url,
        method=HttpMethod(monitor.method),
        headers=tuple(Header(key=h["key"], value=h["value"]) for h in monitor.headers or []),
        body=monitor.body or None,
        timeout_ms=monitor.timeout_ms,
        retry=monitor.retry,
        follow_redirects=monitor.follow_redirects,
        degraded_at_ms=monitor.degraded_at_ms,
        assertions=tuple(assertions),
    )


def _assertion(kind: AssertionKind, item: dict[str, Any]) -> AssertionSpec:
    key = item.get("key") if kind is AssertionKind.HEADER else item.get("record")
    return AssertionSpec(
        kind=kind.value,
        comparator=parse_comparator(kind, item["comparator"]),
        target=str(item.get("target", "")),
        key=key,
    )


def schedule_entry(monitor: Monitor) -> ScheduleEntry | None:
    """The scheduler's view of a monitor, or None when it must not be checked (paused or deleted)."""
    if not monitor.active or monitor.deleted_at is not None or not monitor.regions:
        return None
    return ScheduleEntry(
        monitor_id=monitor.id,
        workspace_id=monitor.workspace_id,
        period_s=PERIODICITY.parse(monitor.periodicity).seconds,
        regions=tuple(parse_region(region) for region in monitor.regions),
        target=check_target(monitor),
        updated_at=monitor.updated_at,
    )
