"""``/api/v2/summary.json``: the page in the shape of Atlassian Statuspage's summary, so tools that read
Statuspage pages (dashboards, chat bots, aggregators) read ours too.

Ids are strings, as Statuspage's are. Components keep their numeric id (``"12"``); groups, which live in
another table and could collide, are ``"group-<id>"``. The status words come from ``status_page.vocabulary``.
Components carry no creation date in the read model, so ``created_at`` is null; ``updated_at`` is the last
report, maintenance or incident that touched the component (the page's own update time if none did).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response

from openstatus_common.pages.snapshot import (
    ComponentView,
    GroupView,
    MaintenanceView,
    PageSnapshot,
    ReportView,
)
from openstatus_common.pages.status import worst
from status_page.context import PageRequest
from status_page.views.common import respond
from status_page.views.feeds import JSON, dump_json, iso, iso_or_none, last_changed, public_headers
from status_page.vocabulary import (
    STATUSPAGE_COMPONENT,
    STATUSPAGE_IMPACT,
    STATUSPAGE_INDICATOR,
    overall_style,
)


def group_id(group_id: int) -> str:
    return f"group-{group_id}"


def _component_updated(snapshot: PageSnapshot, component: ComponentView) -> datetime:
    moments = [snapshot.page.updated_at]
    moments += [r.updated_at for r in snapshot.reports if component.id in r.component_ids]
    moments += [m.updated_at for m in snapshot.maintenances if component.id in m.component_ids]
    if component.monitor_id is not None:
        for incident in snapshot.incidents:
            if incident.monitor_id == component.monitor_id:
                moments.append(incident.resolved_at or incident.started_at)
    return max(moments)


def _component(snapshot: PageSnapshot, component: ComponentView, position: int) -> dict[str, Any]:
    return {
        "id": str(component.id),
        "name": component.name,
        "status": STATUSPAGE_COMPONENT[component.status],
        "created_at": None,
        "updated_at": iso(_component_updated(snapshot, component)),
        "position": position,
        "description": component.description or None,
        "showcase": True,
        "start_date": None,
        "group_id": group_id(component.group_id) if component.group_id is not None else None,
        "page_id": str(snapshot.page.id),
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(snapshot: PageSnapshot, group: GroupView, position: int) -> dict[str, Any]:
    updated = max([snapshot.page.updated_at, *(_component_updated(snapshot, c) for c in group.components)])
    return {
        "id": group_id(group.id),
        "name": group.name,
        "status": STATUSPAGE_COMPONENT[group.status],
        "created_at": None,
        "updated_at": iso(updated),
        "position": position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": str(snapshot.page.id),
        "group": True,
        "only_show_if_degraded": False,
        "components": [str(c.id) for c in group.components],
    }


def components(snapshot: PageSnapshot) -> list[dict[str, Any]]:
    """Display order: each top-level component, or a group followed by its components; positions from 1."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in snapshot.items:
        if isinstance(item, GroupView):
            out.append(_group(snapshot, item, len(out) + 1))
            members = item.components
        else:
            members = (item,)
        for component in members:
            seen.add(component.id)
            out.append(_component(snapshot, component, len(out) + 1))
    for component in snapshot.components:  # anything the display order left out (should be nothing)
        if component.id not in seen:
            out.append(_component(snapshot, component, len(out) + 1))
    return out


def _affected(snapshot: PageSnapshot, component_ids: tuple[int, ...]) -> list[ComponentView]:
    return [c for c in (snapshot.component(i) for i in component_ids) if c is not None]


def incident(pr: PageRequest, report: ReportView, positions: dict[int, int]) -> dict[str, Any]:
    snapshot = pr.snapshot
    affected = _affected(snapshot, report.component_ids)
    monitoring = [u.date for u in report.updates if u.status == "monitoring"]
    return {
        "id": str(report.id),
        "name": report.title,
        "status": report.status,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "monitoring_at": iso(min(monitoring)) if monitoring else None,
        "resolved_at": iso_or_none(report.resolved_at),
        "impact": STATUSPAGE_IMPACT[worst(c.status for c in affected)],
        "shortlink": pr.absolute(f"events/report/{report.id}"),
        "started_at": iso(report.started_at),
        "page_id": str(snapshot.page.id),
        "incident_updates": [
            {
                "id": str(update.id),
                "status": update.status,
                "body": update.message,
                "incident_id": str(report.id),
                "created_at": iso(update.date),
                "updated_at": iso(update.date),
                "display_at": iso(update.date),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for update in report.updates
        ],
        "components": [_component(snapshot, c, positions.get(c.id, 0)) for c in affected],
    }


def scheduled_maintenance(
    pr: PageRequest, maintenance: MaintenanceView, positions: dict[int, int]
) -> dict[str, Any]:
    snapshot = pr.snapshot
    status = "in_progress" if maintenance.ongoing(snapshot.generated_at) else "scheduled"
    return {
        "id": str(maintenance.id),
        "name": maintenance.title,
        "status": status,
        "created_at": iso(maintenance.created_at),
        "updated_at": iso(maintenance.updated_at),
        "monitoring_at": None,
        "resolved_at": None,
        "impact": "maintenance",
        "shortlink": pr.absolute("events") + f"#maintenance-{maintenance.id}",
        "started_at": iso(maintenance.starts_at),
        "page_id": str(snapshot.page.id),
        "scheduled_for": iso(maintenance.starts_at),
        "scheduled_until": iso(maintenance.ends_at),
        # Maintenances have a single message: it is their one update.
        "incident_updates": [
            {
                "id": f"maintenance-{maintenance.id}",
                "status": status,
                "body": maintenance.message,
                "incident_id": str(maintenance.id),
                "created_at": iso(maintenance.created_at),
                "updated_at": iso(maintenance.updated_at),
                "display_at": iso(maintenance.created_at),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        ],
        "components": [
            _component(snapshot, c, positions.get(c.id, 0))
            for c in _affected(snapshot, maintenance.component_ids)
        ],
    }


def summary(pr: PageRequest) -> dict[str, Any]:
    snapshot = pr.snapshot
    page = snapshot.page
    listed = components(snapshot)
    positions = {int(entry["id"]): int(entry["position"]) for entry in listed if not entry["group"]}
    maintenances = sorted(
        (*snapshot.ongoing_maintenances, *snapshot.upcoming_maintenances), key=lambda m: (m.starts_at, m.id)
    )
    return {
        "page": {
            "id": str(page.id),
            "name": page.title,
            "url": pr.absolute(),
            "time_zone": "Etc/UTC",
            "updated_at": iso(last_changed(snapshot)),
        },
        "components": listed,
        "incidents": [incident(pr, report, positions) for report in snapshot.active_reports],
        "scheduled_maintenances": [scheduled_maintenance(pr, m, positions) for m in maintenances],
        "status": {
            "indicator": STATUSPAGE_INDICATOR[snapshot.status],
            "description": pr.t(overall_style(snapshot.status.value).message_key),
        },
    }


async def summary_json(pr: PageRequest) -> Response:
    async def render() -> tuple[bytes, str]:
        return dump_json(summary(pr)), JSON

    return await respond(pr, ("summary", pr.absolute()), render, headers=public_headers(pr))
