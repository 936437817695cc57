"""Incident bodies on the wire: camelCase names, ids as strings (like monitors), timestamps in ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

IncidentStatus = Literal["open", "resolved"]


class IncidentOut(BaseModel):
    """An incident: opened by the engine when a monitor's failing regions reach its quorum."""

    id: str
    monitorId: str
    status: IncidentStatus
    startedAt: datetime
    resolvedAt: datetime | None
    # Seconds from start to resolution, or until now while open.
    durationS: int
    autoResolved: bool
    acknowledgedAt: datetime | None
    acknowledgedBy: str | None
    regions: list[str]
    regionErrors: dict[str, str]
    errorMessage: str | None
    createdAt: datetime
    updatedAt: datetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    totalSize: int
    limit: int
    offset: int


class RegionStateOut(BaseModel):
    """One region of a monitor as the incident engine sees it (its latest check and its verdict)."""

    region: str
    # The region's state after the thresholds; unknown until its first scheduled check.
    status: Literal["success", "degraded", "error", "unknown"]
    lastOutcome: str | None
    lastCheckedAt: datetime | None
    error: str | None
    statusCode: int | None
    latency: int | None
    # While in error: the first failing check of the streak that made it so.
    errorSince: datetime | None
    consecutiveFailures: int
    consecutiveSuccesses: int
    # The latest check was impaired inside a maintenance window: no incident or alert came of it.
    suppressed: bool
