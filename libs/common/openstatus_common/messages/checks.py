"""Check jobs (scheduler -> probe) and check results (probe -> recorder, incident engine, pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from openstatus_common.messages.base import BusMessage, UtcDatetime
from openstatus_common.vocab import CheckOutcome, Comparator, HttpMethod, Region

MonitorKind = Literal["http", "tcp", "dns"]
Trigger = Literal["cron", "api"]


def check_job_id(monitor_id: int, region: Region, scheduled_at: datetime) -> str:
    """The job id is the dedupe key: one job per monitor, region and scheduled instant."""
    return f"{monitor_id}:{region.value}:{int(scheduled_at.timestamp() * 1000)}"


class Header(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    value: str


class AssertionSpec(BaseModel):
    """One assertion as the probe evaluates it (kind-specific comparators are checked at the API)."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["statusCode", "textBody", "header", "record"]
    comparator: Comparator
    target: str = ""
    key: str | None = None  # header name, or DNS record type (A, AAAA, CNAME, MX, NS, TXT)


class CheckTarget(BaseModel):
    """What to check and how: a snapshot of the monitor at scheduling time."""

    model_config = ConfigDict(frozen=True)
    kind: MonitorKind
    url: Annotated[str, Field(max_length=2048)]
    method: HttpMethod = HttpMethod.GET
    headers: tuple[Header, ...] = ()
    body: str | None = None
    timeout_ms: Annotated[int, Field(ge=1, le=120_000)] = 45_000
    retry: Annotated[int, Field(ge=0, le=10)] = 3
    follow_redirects: bool = True
    degraded_at_ms: Annotated[int, Field(ge=0)] | None = None
    assertions: tuple[AssertionSpec, ...] = ()


class CheckJob(BusMessage):
    job_id: str
    monitor_id: int
    workspace_id: int
    region: Region
    scheduled_at: UtcDatetime
    # A job still queued after this instant is stale (its next one is due): the probe drops it.
    expires_at: UtcDatetime
    trigger: Trigger = "cron"
    target: CheckTarget


class Timing(BaseModel):
    """Phase durations in milliseconds; a phase that did not happen (no TLS, cached DNS) is None."""

    model_config = ConfigDict(frozen=True)
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    transfer_ms: float | None = None


class CheckResult(BusMessage):
    result_id: str
    job_id: str
    monitor_id: int
    workspace_id: int
    region: Region
    scheduled_at: UtcDatetime
    started_at: UtcDatetime
    finished_at: UtcDatetime
    trigger: Trigger = "cron"
    outcome: CheckOutcome
    latency_ms: Annotated[float, Field(ge=0)]
    timing: Timing = Timing()
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    error: Annotated[str, Field(max_length=4000)] | None = None
    attempts: Annotated[int, Field(ge=1, le=11)] = 1
    response_headers: dict[str, str] = {}
    dns_records: dict[str, list[str]] = {}
    certificate_expires_at: UtcDatetime | None = None
