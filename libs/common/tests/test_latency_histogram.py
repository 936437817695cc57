"""The fixed latency buckets: bounds, resolution, merging and nearest-rank percentiles against brute force."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstatus_common.rules.latency import (
    BUCKET_COUNT,
    LINEAR_LIMIT_MS,
    OVERFLOW_INDEX,
    RELATIVE_RESOLUTION,
    TRACKED_MAX_MS,
    LatencyHistogram,
    add_latency,
    bucket_bounds,
    bucket_index,
    bucket_value,
    histogram_of,
    merge,
    merge_into,
    nearest_rank,
    parse_histogram,
    percentile,
    percentiles,
    round_ms,
    total,
)

latency = st.floats(min_value=0, max_value=150_000, allow_nan=False, allow_infinity=False)
latencies = st.lists(latency, min_size=1, max_size=300)
percentile_value = st.floats(min_value=0, max_value=100, allow_nan=False)
histograms = latencies.map(histogram_of)


def brute_force(values: list[float], p: float) -> int:
    """Nearest rank over the raw values, rounded to whole milliseconds like the stored ones."""
    ordered = sorted(round_ms(v) for v in values)
    return ordered[nearest_rank(len(ordered), p) - 1]


def assert_within_resolution(answer: int, exact: int) -> None:
    if exact < LINEAR_LIMIT_MS:
        assert answer == exact
    else:
        assert abs(answer - exact) <= exact * RELATIVE_RESOLUTION / 2, (answer, exact)


# --- the bucket scheme -----------------------------------------------------------------------------------


def test_the_scheme_covers_zero_to_beyond_two_minutes_in_few_buckets() -> None:
    assert bucket_bounds(0) == (0, 1)
    assert bucket_index(120_000) < OVERFLOW_INDEX
    assert bucket_bounds(OVERFLOW_INDEX)[1] is None
    assert bucket_bounds(OVERFLOW_INDEX)[0] >= TRACKED_MAX_MS
    assert BUCKET_COUNT < 600


@pytest.mark.parametrize(
    ("latency_ms", "index", "value"),
    [(0, 0, 0), (0.49, 0, 0), (0.5, 1, 1), (42.4, 42, 42), (99.4, 99, 99), (99.5, 100, 100), (101, 100, 100)],
)
def test_low_latencies_are_exact_to_the_millisecond(latency_ms: float, index: int, value: int) -> None:
    assert bucket_index(latency_ms) == index
    assert bucket_value(index) == value


@pytest.mark.parametrize("weird", [-5.0, float("nan"), -math.inf])
def test_negative_and_nan_latencies_count_as_zero(weird: float) -> None:
    assert bucket_index(weird) == 0


def test_huge_latencies_land_in_the_overflow_bucket() -> None:
    assert bucket_index(10**9) == OVERFLOW_INDEX
    assert bucket_index(math.inf) == OVERFLOW_INDEX
    assert bucket_value(OVERFLOW_INDEX) == bucket_bounds(OVERFLOW_INDEX)[0]


def test_buckets_tile_the_range_without_gaps() -> None:
    for index in range(OVERFLOW_INDEX):
        lower, upper = bucket_bounds(index)
        assert upper is not None
        assert upper > lower
        assert bucket_bounds(index + 1)[0] == upper
        assert lower <= bucket_value(index) < upper
        # Relative width at most 2 %, except the exact 1 ms buckets.
        assert upper - lower == 1 or (upper - lower) / lower <= RELATIVE_RESOLUTION


@given(st.integers(min_value=0, max_value=TRACKED_MAX_MS - 1))
def test_every_latency_lands_in_the_bucket_that_contains_it(value: int) -> None:
    index = bucket_index(value)
    lower, upper = bucket_bounds(index)
    assert lower <= value
    assert upper is not None
    assert value < upper
    assert_within_resolution(bucket_value(index), value)


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**7))
def test_bucket_index_is_monotonic(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert bucket_index(low) <= bucket_index(high)


@pytest.mark.parametrize("bad", [-1, BUCKET_COUNT])
def test_out_of_range_indexes_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        bucket_bounds(bad)


# --- percentiles -----------------------------------------------------------------------------------------


@given(latencies, percentile_value)
def test_percentile_matches_brute_force_within_resolution(values: list[float], p: float) -> None:
    answer = percentile(histogram_of(values), p)
    exact = brute_force(values, p)
    assert answer is not None
    # The rank falls in the same bucket as the exact value, so the answer is that bucket's value.
    assert answer == bucket_value(bucket_index(exact))
    assert_within_resolution(answer, exact)


@given(latencies, st.lists(percentile_value, min_size=1, max_size=6))
def test_many_percentiles_in_one_pass_agree_with_one_at_a_time(values: list[float], ps: list[float]) -> None:
    histogram = histogram_of(values)
    assert percentiles(histogram, ps) == [percentile(histogram, p) for p in ps]


def test_nearest_rank_is_exact_on_round_percentiles() -> None:
    assert nearest_rank(20, 95) == 19  # 0.95 * 20 is 19.000000000000004 in floats
    assert nearest_rank(1000, 99.9) == 999
    assert nearest_rank(10, 0) == 1
    assert nearest_rank(10, 100) == 10
    assert nearest_rank(3, 50) == 2


def test_known_percentiles() -> None:
    histogram = histogram_of(range(1, 101))  # 1..100 ms
    assert percentiles(histogram, [50, 75, 90, 95, 99, 100]) == [50, 75, 90, 95, 99, 100]
    assert percentile(histogram_of([5.0]), 99) == 5


def test_empty_histograms_have_no_percentiles() -> None:
    assert percentiles({}, [50, 99]) == [None, None]
    assert percentile({"3": 0}, 50) is None


@pytest.mark.parametrize("bad", [-0.1, 100.1])
def test_percentiles_outside_0_to_100_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile(histogram_of([1]), bad)


# --- merging ---------------------------------------------------------------------------------------------


@given(histograms, histograms)
def test_merge_is_commutative(a: LatencyHistogram, b: LatencyHistogram) -> None:
    assert merge(a, b) == merge(b, a)


@given(histograms, histograms, histograms)
def test_merge_is_associative(a: LatencyHistogram, b: LatencyHistogram, c: LatencyHistogram) -> None:
    assert merge(merge(a, b), c) == merge(a, merge(b, c)) == merge(a, b, c)


@given(latencies, latencies, percentile_value)
def test_merged_parts_equal_the_whole(first: list[float], second: list[float], p: float) -> None:
    merged = merge(histogram_of(first), histogram_of(second))
    assert merged == histogram_of(first + second)
    assert total(merged) == len(first) + len(second)
    answer = percentile(merged, p)
    assert answer is not None
    assert_within_resolution(answer, brute_force(first + second, p))


def test_merge_does_not_change_its_inputs_but_merge_into_does() -> None:
    a = histogram_of([1, 2])
    b = histogram_of([2, 3])
    assert merge(a, b) == {"1": 1, "2": 2, "3": 1}
    assert a == {"1": 1, "2": 1}
    merge_into(a, b)
    assert a == {"1": 1, "2": 2, "3": 1}
    assert add_latency(a, 1, count=2) == {"1": 3, "2": 2, "3": 1}


# --- stored form -----------------------------------------------------------------------------------------


@given(histograms)
def test_stored_json_round_trips(histogram: LatencyHistogram) -> None:
    assert parse_histogram(json.loads(json.dumps(histogram))) == histogram


def test_parse_accepts_the_legacy_dense_list_and_drops_zeros() -> None:
    assert parse_histogram([]) == {}
    assert parse_histogram(None) == {}
    assert parse_histogram([0, 2, 0, 1]) == {"1": 2, "3": 1}
    assert parse_histogram({"7": 0, "8": 3}) == {"8": 3}


@pytest.mark.parametrize("bad", ["nope", {"x": 1}, {"1": -1}, {"1": "2"}, {str(BUCKET_COUNT): 1}])
def test_parse_refuses_garbage(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_histogram(bad)
