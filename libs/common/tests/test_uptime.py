"""Uptime maths as properties: bounded, order-independent, overlaps counted once, maintenance excluded,
floored so a single failure never shows 100.000 %."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstatus_common.rules.uptime import (
    Interval,
    duration_uptime,
    floor_percent,
    manual_uptime,
    merge,
    requests_uptime,
    total_length,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = Interval(T0, T0 + timedelta(days=1))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


intervals = st.builds(
    lambda start, length: Interval(at(start), at(start + length)),
    st.integers(min_value=-120, max_value=1500),
    st.integers(min_value=0, max_value=600),
)
interval_lists = st.lists(intervals, max_size=12)


@given(interval_lists, interval_lists)
def test_uptime_is_between_0_and_100(down: list[Interval], maintenance: list[Interval]) -> None:
    uptime = duration_uptime(DAY, down, maintenance)
    assert uptime is None or 0 <= uptime <= 100


@given(interval_lists, st.randoms())
def test_merging_is_order_independent(items: list[Interval], rng: random.Random) -> None:
    shuffled = list(items)
    rng.shuffle(shuffled)
    assert merge(items) == merge(shuffled)
    merged = merge(items)
    assert all(a.end < b.start for a, b in itertools.pairwise(merged))


@given(interval_lists, interval_lists)
def test_overlapping_incidents_and_reports_never_count_twice(
    incidents: list[Interval], reports: list[Interval]
) -> None:
    both = duration_uptime(DAY, incidents + reports)
    assert both == duration_uptime(DAY, incidents + reports + incidents)
    assert both == duration_uptime(DAY, merge(incidents + reports))
    # The union is down at least as long as either part, and at most as long as both together.
    down_both = total_length(merge(incidents + reports))
    assert max(total_length(incidents), total_length(reports)) <= down_both
    assert down_both <= total_length(incidents) + total_length(reports)


@given(interval_lists, interval_lists)
def test_maintenance_is_excluded_from_total_and_downtime(
    down: list[Interval], maintenance: list[Interval]
) -> None:
    # Downtime that falls entirely inside maintenance changes nothing.
    inside = [
        Interval(max(m.start, DAY.start), min(m.end, DAY.end))
        for m in maintenance
        if m.end > DAY.start and m.start < DAY.end
    ]
    assert duration_uptime(DAY, down + inside, maintenance) == duration_uptime(DAY, down, maintenance)


def test_exact_values() -> None:
    assert duration_uptime(DAY, []) == 100.0
    assert duration_uptime(DAY, [Interval(at(0), at(144))]) == 90.0
    # Two overlapping hours are one hour and a half, not two.
    assert duration_uptime(DAY, [Interval(at(0), at(60)), Interval(at(30), at(90))]) == pytest.approx(93.75)
    # Half the day under maintenance: the hour down is out of 12 hours.
    maintenance = [Interval(at(720), at(1440))]
    assert duration_uptime(DAY, [Interval(at(0), at(72))], maintenance) == 90.0
    assert duration_uptime(DAY, [], [DAY]) is None  # nothing measurable: no data, not green
    assert manual_uptime(DAY, [Interval(at(-60), at(72))]) == 95.0  # clipped to the window


def test_requests_mode_and_floor() -> None:
    assert requests_uptime(0, 0, 0) is None
    assert requests_uptime(90, 5, 5) == 95.0
    assert requests_uptime(999_999, 0, 1) == 99.999  # one failure never shows 100.000
    assert requests_uptime(2, 0, 1) == 66.666
    with pytest.raises(ValueError):
        requests_uptime(-1, 0, 0)


@given(
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=1, max_value=10**7),
)
def test_any_failure_is_below_100(success: int, degraded: int, error: int) -> None:
    uptime = requests_uptime(success, degraded, error)
    assert uptime is not None and uptime < 100


@given(st.fractions(min_value=0, max_value=1))
def test_floor_never_rounds_up(ratio: Fraction) -> None:
    shown = floor_percent(ratio)
    assert Fraction(str(shown)) <= ratio * 100 < Fraction(str(shown)) + Fraction(1, 1000)
