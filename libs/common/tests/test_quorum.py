"""The incident rule: region streaks and verdicts, the quorum, status changes; tables and properties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openstatus_common.rules.quorum import (
    Change,
    Decision,
    Observation,
    RegionState,
    Thresholds,
    decide,
    evaluate,
    observe,
)
from openstatus_common.vocab import CheckOutcome, MonitorStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
OUTCOME = {"S": CheckOutcome.SUCCESS, "D": CheckOutcome.DEGRADED, "E": CheckOutcome.ERROR}
LETTER = {outcome: letter for letter, outcome in OUTCOME.items()}
ACTIVE, DEGRADED, ERROR = MonitorStatus.ACTIVE, MonitorStatus.DEGRADED, MonitorStatus.ERROR
REGIONS = ("ams", "iad", "syd")


def obs(region: str, minute: int, letter: str, error: str | None = None) -> Observation:
    outcome = OUTCOME[letter]
    if outcome is CheckOutcome.ERROR and error is None:
        error = f"{region} down at {minute}"
    return Observation(region=region, scheduled_at=T0 + minute * MINUTE, outcome=outcome, error=error)


def verdicts(outcomes: str, thresholds: Thresholds) -> str:
    state: RegionState | None = None
    seen = ""
    for minute, letter in enumerate(outcomes):
        state = observe(state, obs("ams", minute, letter), thresholds)
        assert state is not None
        seen += LETTER[state.verdict]
    return seen


# --- quorum arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quorum", "regions", "expected"),
    [
        (None, 1, 1),  # the only region
        (None, 2, 1),  # half of two
        (None, 3, 2),
        (None, 4, 2),
        (None, 5, 3),
        (None, 28, 14),
        (3, 2, 2),  # more than there are regions: all of them
        (1, 5, 1),
        (4, 5, 4),
        (None, 0, 1),
    ],
)
def test_quorum_for(quorum: int | None, regions: int, expected: int) -> None:
    assert Thresholds(quorum=quorum).quorum_for(regions) == expected


def test_thresholds_from_nullable_columns_and_limits() -> None:
    assert Thresholds.of(None, None, None) == Thresholds(None, 1, 1)
    assert Thresholds.of(2, 3, 4) == Thresholds(2, 3, 4)
    with pytest.raises(ValueError):
        Thresholds(quorum=0)
    with pytest.raises(ValueError):
        Thresholds(failure_threshold=0)


# --- one region: streaks and verdicts --------------------------------------------------------------------

VERDICT_CASES = [
    # (failure threshold, success threshold, outcomes, verdict after each)
    (1, 1, "SESDDSE", "SESDDSE"),  # defaults: the verdict is the latest outcome
    (1, 1, "EDS", "EDS"),
    (3, 1, "EESEEE", "SSSSSE"),  # three failures in a row, not three in all
    (3, 1, "EEEES", "SSEES"),
    (2, 2, "EESES", "SEEEE"),  # a failure in the middle of recovery restarts it
    (2, 2, "EESS", "SEES"),
    (2, 2, "EEDS", "SEED"),  # out of error but not yet healthy: degraded
    (2, 2, "EEDSS", "SEEDS"),
    (2, 1, "DEDS", "SDDS"),  # impaired twice in a row (not failing twice): degraded
    (3, 2, "SESESESE", "SSSSSSSS"),  # flapping never reaches the threshold
    (1, 3, "ESESESSS", "EEEEEEES"),  # flapping never recovers either
]


@pytest.mark.parametrize(("fail", "recover", "outcomes", "expected"), VERDICT_CASES)
def test_region_verdicts(fail: int, recover: int, outcomes: str, expected: str) -> None:
    assert verdicts(outcomes, Thresholds(failure_threshold=fail, success_threshold=recover)) == expected


def test_streaks_and_failure_start() -> None:
    thresholds = Thresholds(failure_threshold=2, success_threshold=2)
    state = None
    for minute, letter in enumerate("SEEEE"):
        state = observe(state, obs("ams", minute, letter, error="refused"), thresholds)
    assert state is not None
    assert state.verdict is CheckOutcome.ERROR
    assert state.error_streak == 4
    assert state.error_since == T0 + 1 * MINUTE  # the first failing check, not the one that crossed
    assert state.last_error == "refused"
    state = observe(state, obs("ams", 5, "S"), thresholds)
    assert state is not None
    assert (state.verdict, state.error_streak, state.available_streak) == (CheckOutcome.ERROR, 0, 1)
    assert state.error_since == T0 + 1 * MINUTE  # still the same failure
    assert state.last_error is None


def test_stale_and_repeated_results_change_nothing() -> None:
    state = observe(None, obs("ams", 5, "E"), Thresholds())
    assert state is not None
    assert observe(state, obs("ams", 5, "S"), Thresholds()) is None  # same scheduled time (redelivery)
    assert observe(state, obs("ams", 4, "S"), Thresholds()) is None  # older (arrived late)


# --- the monitor's status -----------------------------------------------------------------------------


def states_of(verdicts_by_region: dict[str, str]) -> dict[str, RegionState]:
    states: dict[str, RegionState] = {}
    for region, letter in verdicts_by_region.items():
        state = observe(None, obs(region, 0, letter), Thresholds())
        assert state is not None
        states[region] = state
    return states


STATUS_CASES = [
    # (verdicts, regions, quorum, status, failing below quorum)
    ({"ams": "E", "iad": "E", "syd": "S"}, REGIONS, None, ERROR, ()),
    ({"ams": "E", "iad": "S", "syd": "S"}, REGIONS, None, ACTIVE, ("ams",)),
    ({"ams": "E", "iad": "D", "syd": "S"}, REGIONS, None, DEGRADED, ("ams",)),
    ({"ams": "D", "iad": "D", "syd": "S"}, REGIONS, None, DEGRADED, ()),
    ({"ams": "D", "iad": "S", "syd": "S"}, REGIONS, None, ACTIVE, ()),
    ({"ams": "E"}, ("ams",), None, ERROR, ()),  # the only region
    ({"ams": "E", "iad": "S"}, ("ams", "iad"), None, ERROR, ()),  # half of two
    ({"ams": "E", "iad": "E", "syd": "S"}, REGIONS, 3, ACTIVE, ("ams", "iad")),  # all three required
    ({"ams": "E", "iad": "S", "syd": "S"}, REGIONS, 1, ERROR, ()),  # any one region
    ({"ams": "E"}, REGIONS, None, ACTIVE, ("ams",)),  # regions without results count as healthy
    ({"ams": "E", "fra": "E"}, ("ams", "iad"), None, ERROR, ()),  # only the monitor's regions count
    ({"fra": "E", "iad": "S"}, ("ams", "iad"), None, ACTIVE, ()),
    ({}, (), None, ACTIVE, ()),
]


@pytest.mark.parametrize(("given_verdicts", "regions", "quorum", "status", "below"), STATUS_CASES)
def test_monitor_status(
    given_verdicts: dict[str, str],
    regions: tuple[str, ...],
    quorum: int | None,
    status: MonitorStatus,
    below: tuple[str, ...],
) -> None:
    health = evaluate(states_of(given_verdicts), regions, Thresholds(quorum=quorum))
    assert health.status is status
    assert health.failing_below_quorum == below
    assert health.regions_total == len(regions)


def test_outage_starts_when_the_quorum_started_failing() -> None:
    thresholds = Thresholds(failure_threshold=2)
    states: dict[str, RegionState] = {}
    feed = [("ams", 0, "E"), ("ams", 1, "E"), ("ams", 2, "E"), ("iad", 3, "E"), ("iad", 4, "E")]
    for region, minute, letter in feed:
        state = observe(states.get(region), obs(region, minute, letter), thresholds)
        assert state is not None
        states[region] = state
    health = evaluate(states, REGIONS, thresholds)
    assert health.status is ERROR
    # ams failed alone from minute 0 (below quorum); the outage began with iad's first failure.
    assert health.started_at == T0 + 3 * MINUTE
    assert health.error_regions == ("ams", "iad")


DECISION_CASES = [
    # (previous, evaluated, maintenance, stored, change, opens, resolves, alert, suppressed)
    (ACTIVE, ACTIVE, False, ACTIVE, Change.NONE, False, False, None, False),
    (ACTIVE, ERROR, False, ERROR, Change.TO_ERROR, True, False, "error", False),
    (DEGRADED, ERROR, False, ERROR, Change.TO_ERROR, True, False, "error", False),
    (ACTIVE, DEGRADED, False, DEGRADED, Change.TO_DEGRADED, False, False, "degraded", False),
    (ERROR, DEGRADED, False, DEGRADED, Change.TO_DEGRADED, False, True, "degraded", False),
    (ERROR, ACTIVE, False, ACTIVE, Change.RECOVERED, False, True, "recovered", False),
    (DEGRADED, ACTIVE, False, ACTIVE, Change.RECOVERED, False, False, "recovered", False),
    (ERROR, ERROR, False, ERROR, Change.NONE, False, False, None, False),
    # During maintenance worsenings wait; recoveries go through.
    (ACTIVE, ERROR, True, ACTIVE, Change.NONE, False, False, None, True),
    (ACTIVE, DEGRADED, True, ACTIVE, Change.NONE, False, False, None, True),
    (DEGRADED, ERROR, True, DEGRADED, Change.NONE, False, False, None, True),
    (ERROR, ACTIVE, True, ACTIVE, Change.RECOVERED, False, True, "recovered", False),
    (ERROR, ERROR, True, ERROR, Change.NONE, False, False, None, False),
]


@pytest.mark.parametrize(
    ("previous", "evaluated", "maintenance", "stored", "change", "opens", "resolves", "alert", "suppressed"),
    DECISION_CASES,
)
def test_decide(
    previous: MonitorStatus,
    evaluated: MonitorStatus,
    maintenance: bool,
    stored: MonitorStatus,
    change: Change,
    opens: bool,
    resolves: bool,
    alert: str | None,
    suppressed: bool,
) -> None:
    decision = decide(previous, evaluated, in_maintenance=maintenance)
    assert decision.status is stored
    assert decision.change is change
    assert decision.opens_incident is opens
    assert decision.resolves_incident is resolves
    assert decision.alert == alert
    assert decision.suppressed is suppressed


# --- the whole rule over streams of results ---------------------------------------------------------------


@dataclass
class Simulation:
    """The engine's bookkeeping without a database: states, status, incidents, alerts."""

    thresholds: Thresholds
    regions: Sequence[str] = REGIONS
    states: dict[str, RegionState] = field(default_factory=dict)
    status: MonitorStatus = ACTIVE
    open_incidents: int = 0
    incidents: int = 0
    decisions: list[Decision] = field(default_factory=list)

    def feed(self, observation: Observation, *, maintenance: bool = False) -> None:
        state = observe(self.states.get(observation.region), observation, self.thresholds)
        if state is None:
            return
        self.states[observation.region] = state
        health = evaluate(self.states, self.regions, self.thresholds)
        decision = decide(self.status, health.status, in_maintenance=maintenance)
        if decision.opens_incident:
            assert self.open_incidents == 0, "a second incident would open"
            self.open_incidents += 1
            self.incidents += 1
        if decision.resolves_incident:
            assert self.open_incidents == 1, "resolving an incident that is not open"
            self.open_incidents -= 1
        self.status = decision.status
        if decision.change is not Change.NONE:
            self.decisions.append(decision)
        assert self.open_incidents == (1 if self.status is ERROR else 0)

    @property
    def alerts(self) -> list[str | None]:
        return [decision.alert for decision in self.decisions]


thresholds_strategy = st.builds(
    Thresholds,
    quorum=st.none() | st.integers(1, 4),
    failure_threshold=st.integers(1, 4),
    success_threshold=st.integers(1, 4),
)
# One check per region and minute, in scheduled order: (region index, outcome letter, in maintenance).
feed_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from("SDE"), st.booleans()), min_size=1, max_size=60
)


def observations(feed: list[tuple[int, str, bool]]) -> list[tuple[Observation, bool]]:
    return [
        (obs(REGIONS[region], minute, letter), maint) for minute, (region, letter, maint) in enumerate(feed)
    ]


@settings(max_examples=300, deadline=None)
@given(thresholds=thresholds_strategy, feed=feed_strategy, data=st.data())
def test_redelivering_any_prefix_changes_nothing(
    thresholds: Thresholds, feed: list[tuple[int, str, bool]], data: st.DataObject
) -> None:
    items = observations(feed)
    once = Simulation(thresholds)
    for observation, maint in items:
        once.feed(observation, maintenance=maint)

    # Each result may come again right after any later one (a redelivery, or a replica's duplicate).
    again = Simulation(thresholds)
    for index, (observation, maint) in enumerate(items):
        again.feed(observation, maintenance=maint)
        replay = data.draw(st.lists(st.integers(0, index), max_size=3), label=f"replay after {index}")
        for earlier in replay:
            again.feed(items[earlier][0], maintenance=items[earlier][1])

    assert again.states == once.states
    assert again.decisions == once.decisions
    assert (again.status, again.incidents) == (once.status, once.incidents)


@settings(max_examples=300, deadline=None)
@given(thresholds=thresholds_strategy, feed=feed_strategy)
def test_at_most_one_open_incident_and_it_is_open_exactly_while_in_error(
    thresholds: Thresholds, feed: list[tuple[int, str, bool]]
) -> None:
    simulation = Simulation(thresholds)
    for observation, maint in observations(feed):
        simulation.feed(observation, maintenance=maint)  # asserts the invariant after every result
    alerts = simulation.alerts
    assert alerts.count("error") == simulation.incidents


@settings(max_examples=200, deadline=None)
@given(feed=st.lists(st.tuples(st.integers(0, 2), st.sampled_from("SDE")), min_size=1, max_size=60))
def test_with_defaults_every_transition_alerts(feed: list[tuple[int, str]]) -> None:
    simulation = Simulation(Thresholds())
    statuses = [ACTIVE]
    for minute, (region, letter) in enumerate(feed):
        simulation.feed(obs(REGIONS[region], minute, letter))
        assert all(
            state.verdict is state.last_outcome for state in simulation.states.values()
        )  # no hysteresis by default
        if simulation.status is not statuses[-1]:
            statuses.append(simulation.status)
    assert len(simulation.alerts) == len(statuses) - 1
    assert None not in simulation.alerts


def flapping(minutes: int) -> list[Observation]:
    """Every region fails and recovers on alternate checks."""
    return [
        obs(region, minute, "E" if minute % 2 else "S") for minute in range(minutes) for region in REGIONS
    ]


def test_flapping_target_does_not_storm_with_thresholds() -> None:
    calm = Simulation(Thresholds(failure_threshold=2, success_threshold=2))
    for observation in flapping(61):
        calm.feed(observation)
    assert calm.alerts == []
    assert calm.incidents == 0

    storm = Simulation(Thresholds())
    for observation in flapping(61):
        storm.feed(observation)
    # With the defaults each real transition alerts: 30 outages, each opened and recovered.
    assert storm.alerts == ["error", "recovered"] * 30
    assert storm.incidents == 30


def test_sustained_outage_alerts_once_with_thresholds() -> None:
    simulation = Simulation(Thresholds(failure_threshold=3, success_threshold=2))
    letters = "SSEEEEEEESSSS"
    for minute, letter in enumerate(letters):
        for region in REGIONS[:2]:
            simulation.feed(obs(region, minute, letter))
    assert simulation.alerts == ["error", "recovered"]
    assert simulation.incidents == 1
