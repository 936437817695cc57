"""Monitor verbs. Each takes the session and the caller first; writes check the scope on their first line.

Services flush, never commit: the adapter owns the transaction and publishes changes after the commit.
Updating or deleting a monitor stages a ``monitor.changed`` event in the transaction's outbox (status pages
showing the monitor drop what they cached of it); the adapter publishes it after the commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.auth.service import AuthContext
from api.monitors.schemas import (
    INPUT_MODELS,
    DNSMonitorIn,
    HTTPMonitorIn,
    MonitorBase,
    TCPMonitorIn,
)
from api.page_components.service import remove_monitor_components
from api.pagination import page_of
from openstatus_common.db.base import utcnow
from openstatus_common.db.models import Monitor
from openstatus_common.errors import InvalidArgument, NotFound, PermissionDenied
from openstatus_common.messages import Event, EventKind
from openstatus_common.outbox import stage
from openstatus_common.vocab import Region

MonitorKind = str


def _require_write(auth: AuthContext) -> None:
    if not auth.can_write:
        raise PermissionDenied("this API key is read-only")


def _check_regions(regions: list[Region] | None, served: tuple[Region, ...]) -> list[str]:
    chosen = regions if regions is not None else list(served)
    unserved = [region.value for region in chosen if region not in served]
    if unserved:
        raise InvalidArgument(
            f"region {', '.join(unserved)} is not served by this deployment; "
            f"served regions: {', '.join(r.value for r in served)}",
            field="regions",
        )
    return [region.value for region in chosen]


def _apply(monitor: Monitor, data: MonitorBase, served: tuple[Region, ...]) -> None:
    monitor.name = data.name
    monitor.description = data.description
    monitor.periodicity = data.periodicity.value
    monitor.timeout_ms = data.timeout
    monitor.retry = data.retry
    monitor.degraded_at_ms = data.degradedAt
    monitor.regions = _check_regions(data.regions, served)
    monitor.active = data.active
    monitor.public = data.public
    monitor.open_telemetry = data.openTelemetry.model_dump() if data.openTelemetry else None
    monitor.quorum = data.quorum
    monitor.failure_threshold = data.failureThreshold
    monitor.success_threshold = data.successThreshold
    assertions: dict[str, list[dict[str, Any]]] = {}
    if isinstance(data, HTTPMonitorIn):
        monitor.url = data.url
        monitor.method = data.method.value
        monitor.body = data.body
        monitor.headers = [h.model_dump() for h in data.headers]
        monitor.follow_redirects = data.followRedirects
        assertions = {
            "statusCode": [a.model_dump(mode="json") for a in data.statusCodeAssertions],
            "body": [a.model_dump(mode="json") for a in data.bodyAssertions],
            "header": [a.model_dump(mode="json") for a in data.headerAssertions],
        }
    elif isinstance(data, TCPMonitorIn):
        monitor.url = data.uri
    elif isinstance(data, DNSMonitorIn):
        monitor.url = data.uri
        assertions = {"record": [a.model_dump(mode="json") for a in data.recordAssertions]}
    monitor.assertions = {key: value for key, value in assertions.items() if value}


async def create_monitor(
    session: AsyncSession, auth: AuthContext, *, data: MonitorBase, served: tuple[Region, ...]
) -> Monitor:
    """Create a monitor of the kind ``data`` describes."""
    _require_write(auth)
    kind = next(kind for kind, model in INPUT_MODELS.items() if isinstance(data, model))
    monitor = Monitor(workspace_id=auth.workspace_id, kind=kind)
    _apply(monitor, data, served)
    session.add(monitor)
    await session.flush()
    audit.record(session, auth, action="monitor.create", entity_type="monitor", entity_id=monitor.id)
    return monitor


async def get_monitor(session: AsyncSession, auth: AuthContext, monitor_id: int) -> Monitor:
    """The workspace's monitor, or NotFound (also for another workspace's monitor: ids are not secret-safe)."""
    monitor = (
        await session.execute(
            select(Monitor).where(
                Monitor.id == monitor_id,
                Monitor.workspace_id == auth.workspace_id,
                Monitor.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if monitor is None:
        raise NotFound(f"monitor {monitor_id} not found", field="id")
    return monitor


async def list_monitors(
    session: AsyncSession, auth: AuthContext, *, limit: int, offset: int
) -> tuple[list[Monitor], int]:
    condition = (Monitor.workspace_id == auth.workspace_id) & Monitor.deleted_at.is_(None)
    return await page_of(session, Monitor, [condition], (Monitor.id,), limit=limit, offset=offset)


def _stage_changed(session: AsyncSession, monitor: Monitor) -> list[Event]:
    """Stage ``monitor.changed`` for the monitor (a unique id: every change is news) and return it."""
    event = Event(
        event_id=f"{EventKind.MONITOR_CHANGED.value}:{monitor.id}:{uuid.uuid4().hex}",
        kind=EventKind.MONITOR_CHANGED,
        occurred_at=utcnow(),
        workspace_id=monitor.workspace_id,
        monitor_id=monitor.id,
        data={},
    )
    stage(session, [event])
    return [event]


async def update_monitor(
    session: AsyncSession,
    auth: AuthContext,
    monitor_id: int,
    *,
    changes: dict[str, Any],
    served: tuple[Region, ...],
) -> tuple[Monitor, list[Event]]:
    """Partial update: the stored monitor merged with ``changes`` must be a valid monitor of its kind.
    Returns the monitor and the staged ``monitor.changed`` event."""
    _require_write(auth)
    monitor = await get_monitor(session, auth, monitor_id)
    model = INPUT_MODELS[monitor.kind]
    merged = {**to_input(monitor), **changes}
    try:
        data = model.model_validate(merged)
    except ValidationError as error:
        raise invalid_argument(error) from None
    _apply(monitor, data, served)
    monitor.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        auth,
        action="monitor.update",
        entity_type="monitor",
        entity_id=monitor.id,
        fields=sorted(changes),
    )
    return monitor, _stage_changed(session, monitor)


async def delete_monitor(
    session: AsyncSession, auth: AuthContext, monitor_id: int
) -> tuple[Monitor, list[Event]]:
    """Soft delete: the monitor stops being checked; its history stays. Its page components go (pages
    already stopped showing them). Returns the monitor and the staged events."""
    _require_write(auth)
    monitor = await get_monitor(session, auth, monitor_id)
    monitor.deleted_at = utcnow()
    monitor.active = False
    await session.flush()
    audit.record(session, auth, action="monitor.delete", entity_type="monitor", entity_id=monitor.id)
    components = await remove_monitor_components(session, auth, monitor.id)
    return monitor, [*_stage_changed(session, monitor), *components]


def invalid_argument(error: ValidationError) -> InvalidArgument:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidArgument(f"{field}: {message}", field=field)


def to_input(monitor: Monitor) -> dict[str, Any]:
    """The stored monitor in its input shape (the same names the API accepts)."""
    common: dict[str, Any] = {
        "name": monitor.name,
        "description": monitor.description,
        "periodicity": monitor.periodicity,
        "timeout": monitor.timeout_ms,
        "retry": monitor.retry,
        "degradedAt": monitor.degraded_at_ms,
        "regions": list(monitor.regions),
        "active": monitor.active,
        "public": monitor.public,
        "openTelemetry": monitor.open_telemetry,
        "quorum": monitor.quorum,
        "failureThreshold": monitor.failure_threshold,
        "successThreshold": monitor.success_threshold,
    }
    assertions = monitor.assertions or {}
    if monitor.kind == "http":
        return {
            **common,
            "url": monitor.url,
            "method": monitor.method,
            "body": monitor.body,
            "headers": list(monitor.headers or []),
            "followRedirects": monitor.follow_redirects,
            "statusCodeAssertions": assertions.get("statusCode", []),
            "bodyAssertions": assertions.get("body", []),
            "headerAssertions": assertions.get("header", []),
        }
    if monitor.kind == "dns":
        return {**common, "uri": monitor.url, "recordAssertions": assertions.get("record", [])}
    return {**common, "uri": monitor.url}


def to_output(monitor: Monitor) -> dict[str, Any]:
    return {
        "id": str(monitor.id),
        "kind": monitor.kind,
        **to_input(monitor),
        "status": monitor.status,
        "createdAt": monitor.created_at.isoformat(),
        "updatedAt": monitor.updated_at.isoformat(),
    }
