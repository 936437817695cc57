"""The incident rule, as pure functions: region streaks, region verdicts, the monitor's status by quorum.

Three steps, each a function of plain values (no I/O), so the engine, the API and the tests share them:

1. ``observe``: fold one check result into its region's state. The state keeps streaks of consecutive
   outcomes and the region's *verdict*, which moves with hysteresis:

   - a region turns **error** after ``failure_threshold`` consecutive failing checks;
   - it leaves error after ``success_threshold`` consecutive checks that did not fail;
   - a healthy region turns **degraded** after ``failure_threshold`` consecutive checks that were degraded
     or failing (fewer than the threshold of them failing), and returns to **success** after
     ``success_threshold`` consecutive successes.

   With the defaults (1 and 1) the verdict is simply the latest outcome. A result whose ``scheduled_at`` is
   not newer than the region's last applied one returns None: redelivered and late results change nothing.

2. ``evaluate``: the monitor's status from its regions' verdicts. ``quorum`` is how many regions must be in
   error; by default half of them rounded up (openstatus: ``affected >= regions / 2``, or the only region).
   Error when the regions in error reach the quorum; else degraded when the regions degraded *or* in
   error reach it; else active. Regions failing below the quorum are reported, never dropped.

3. ``decide``: from the stored status and the evaluated one, what changes: the status to store, the alert,
   whether an incident opens or resolves. An incident is open exactly while the status is error, so one
   outage opens one incident. During a maintenance window worsening changes are held back (the status
   keeps its value, the decision says ``suppressed``) while recoveries go through; when the window ends,
   the next result catches the status up and alerts if the monitor is still failing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from openstatus_common.vocab.status import CheckOutcome, MonitorStatus

DEFAULT_FAILURE_THRESHOLD = 1
DEFAULT_SUCCESS_THRESHOLD = 1

AlertStatus = Literal["error", "degraded", "recovered"]

# How bad a status is: a change to a higher rank is a worsening.
_RANK: dict[MonitorStatus, int] = {MonitorStatus.ACTIVE: 0, MonitorStatus.DEGRADED: 1, MonitorStatus.ERROR: 2}


@dataclass(frozen=True)
class Thresholds:
    """A monitor's incident rule. ``quorum`` None means half of its regions, rounded up."""

    quorum: int | None = None
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    success_threshold: int = DEFAULT_SUCCESS_THRESHOLD

    def __post_init__(self) -> None:
        if self.quorum is not None and self.quorum < 1:
            raise ValueError("quorum must be at least 1")
        if self.failure_threshold < 1 or self.success_threshold < 1:
            raise ValueError("thresholds must be at least 1")

    @classmethod
    def of(
        cls, quorum: int | None, failure_threshold: int | None, success_threshold: int | None
    ) -> Thresholds:
        """From a monitor's nullable columns: NULL means the default."""
        return cls(
            quorum=quorum,
            failure_threshold=failure_threshold or DEFAULT_FAILURE_THRESHOLD,
            success_threshold=success_threshold or DEFAULT_SUCCESS_THRESHOLD,
        )

    def quorum_for(self, regions: int) -> int:
        """Regions in error needed for an outage: the configured quorum capped at the region count."""
        default = max(1, math.ceil(regions / 2))
        wanted = default if self.quorum is None else self.quorum
        return max(1, min(wanted, regions)) if regions else 1


@dataclass(frozen=True)
class Observation:
    """One check result as the rule sees it."""

    region: str
    scheduled_at: datetime
    outcome: CheckOutcome
    error: str | None = None
    status_code: int | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class RegionState:
    """What the engine remembers about one region of one monitor between results."""

    region: str
    verdict: CheckOutcome = CheckOutcome.SUCCESS
    last_outcome: CheckOutcome | None = None
    last_scheduled_at: datetime | None = None
    last_error: str | None = None
    last_status_code: int | None = None
    last_latency_ms: int | None = None
    # Consecutive checks that failed / were degraded or failed / did not fail / succeeded.
    error_streak: int = 0
    impaired_streak: int = 0
    available_streak: int = 0
    success_streak: int = 0
    # The first check of the current failing streak, and of the failing streak that made the verdict error.
    error_streak_since: datetime | None = None
    error_since: datetime | None = None


def observe(state: RegionState | None, obs: Observation, thresholds: Thresholds) -> RegionState | None:
    """Fold ``obs`` into its region's state; None when it is not newer than the last one applied."""
    if state is None:
        state = RegionState(region=obs.region)
    elif state.last_scheduled_at is not None and obs.scheduled_at <= state.last_scheduled_at:
        return None
    failed = obs.outcome is CheckOutcome.ERROR
    impaired = obs.outcome is not CheckOutcome.SUCCESS
    error_streak = state.error_streak + 1 if failed else 0
    impaired_streak = state.impaired_streak + 1 if impaired else 0
    available_streak = 0 if failed else state.available_streak + 1
    success_streak = 0 if impaired else state.success_streak + 1
    if not failed:
        error_streak_since = None
    elif state.error_streak == 0 or state.error_streak_since is None:
        error_streak_since = obs.scheduled_at
    else:
        error_streak_since = state.error_streak_since

    fail_at, recover_at = thresholds.failure_threshold, thresholds.success_threshold
    verdict = state.verdict
    error_since = state.error_since
    if error_streak >= fail_at:
        if verdict is not CheckOutcome.ERROR:
            error_since = error_streak_since
        verdict = CheckOutcome.ERROR
    elif verdict is CheckOutcome.ERROR:
        if available_streak >= recover_at:
            verdict = CheckOutcome.SUCCESS if success_streak >= recover_at else CheckOutcome.DEGRADED
    elif verdict is CheckOutcome.DEGRADED:
        if success_streak >= recover_at:
            verdict = CheckOutcome.SUCCESS
    elif impaired_streak >= fail_at:
        verdict = CheckOutcome.DEGRADED
    if verdict is not CheckOutcome.ERROR:
        error_since = None

    return replace(
        state,
        verdict=verdict,
        last_outcome=obs.outcome,
        last_scheduled_at=obs.scheduled_at,
        last_error=obs.error if impaired else None,
        last_status_code=obs.status_code,
        last_latency_ms=obs.latency_ms,
        error_streak=error_streak,
        impaired_streak=impaired_streak,
        available_streak=available_streak,
        success_streak=success_streak,
        error_streak_since=error_streak_since,
        error_since=error_since,
    )


@dataclass(frozen=True)
class MonitorHealth:
    """A monitor's status derived from its regions, with the regions that make it so."""

    status: MonitorStatus
    quorum: int
    regions_total: int
    error_regions: tuple[str, ...]
    degraded_regions: tuple[str, ...]
    # Error only: the outage's first failing check, when the quorum's regions had all started failing.
    started_at: datetime | None = None

    @property
    def failing_below_quorum(self) -> tuple[str, ...]:
        """Regions in error that are too few for an outage: shown in the status, never silent."""
        return () if self.status is MonitorStatus.ERROR else self.error_regions


def evaluate(
    states: Mapping[str, RegionState], regions: Iterable[str], thresholds: Thresholds
) -> MonitorHealth:
    """The status of a monitor checked from ``regions`` (a region without results counts as healthy)."""
    wanted = list(dict.fromkeys(regions))
    quorum = thresholds.quorum_for(len(wanted))
    errors: list[RegionState] = []
    degraded: list[str] = []
    for region in wanted:
        state = states.get(region)
        if state is None:
            continue
        if state.verdict is CheckOutcome.ERROR:
            errors.append(state)
        elif state.verdict is CheckOutcome.DEGRADED:
            degraded.append(region)
    error_regions = tuple(state.region for state in errors)
    if wanted and len(errors) >= quorum:
        # The quorum was first met when its last region started failing: the quorum-th earliest start.
        starts = sorted(state.error_since for state in errors if state.error_since is not None)
        started_at = starts[quorum - 1] if len(starts) >= quorum else None
        return MonitorHealth(
            MonitorStatus.ERROR, quorum, len(wanted), error_regions, tuple(degraded), started_at
        )
    if wanted and len(errors) + len(degraded) >= quorum:
        return MonitorHealth(MonitorStatus.DEGRADED, quorum, len(wanted), error_regions, tuple(degraded))
    return MonitorHealth(MonitorStatus.ACTIVE, quorum, len(wanted), error_regions, tuple(degraded))


class Change(StrEnum):
    """What happened to a monitor's status."""

    NONE = "none"
    TO_ERROR = "to_error"
    TO_DEGRADED = "to_degraded"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class Decision:
    """What the engine does about one evaluated result."""

    previous: MonitorStatus
    status: MonitorStatus  # the status to store (the previous one when a worsening is suppressed)
    change: Change
    suppressed: bool = False  # a worsening held back by a maintenance window

    @property
    def opens_incident(self) -> bool:
        return self.change is Change.TO_ERROR

    @property
    def resolves_incident(self) -> bool:
        return self.previous is MonitorStatus.ERROR and self.status is not MonitorStatus.ERROR

    @property
    def alert(self) -> AlertStatus | None:
        """The ``status`` of the monitor alert to send (the webhook's vocabulary), if any."""
        return _ALERTS.get(self.change)


_ALERTS: dict[Change, AlertStatus] = {
    Change.TO_ERROR: "error",
    Change.TO_DEGRADED: "degraded",
    Change.RECOVERED: "recovered",
}


def decide(previous: MonitorStatus, evaluated: MonitorStatus, *, in_maintenance: bool = False) -> Decision:
    """The change from the stored status to the evaluated one; worsenings wait out a maintenance window."""
    if evaluated is previous:
        return Decision(previous, previous, Change.NONE)
    if in_maintenance and _RANK[evaluated] > _RANK[previous]:
        return Decision(previous, previous, Change.NONE, suppressed=True)
    if evaluated is MonitorStatus.ERROR:
        change = Change.TO_ERROR
    elif evaluated is MonitorStatus.DEGRADED:
        change = Change.TO_DEGRADED
    else:
        change = Change.RECOVERED
    return Decision(previous, evaluated, change)
