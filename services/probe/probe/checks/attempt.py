"""What one attempt of a check observed, before assertions and outcome are decided by the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from openstatus_common.messages.checks import Timing


@dataclass(slots=True)
class Attempt:
    """``error`` is set when the target could not be checked (transport failure, timeout, refused);
    otherwise the response fields hold what came back. ``latency_ms`` is the attempt's total time."""

    latency_ms: float
    timing: Timing = field(default_factory=Timing)
    error: str | None = None
    status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    dns_records: dict[str, list[str]] | None = None
    certificate_expires_at: datetime | None = None


def timeout_message(timeout_ms: int) -> str:
    return f"timeout after {timeout_ms} ms"


def elapsed_ms(started: float, ended: float) -> float:
    """Milliseconds between two ``time.perf_counter()`` readings, rounded to microseconds."""
    return round(max(0.0, ended - started) * 1000, 3)
