"""Latency histograms with fixed buckets, so percentiles over any time range come from summed rollups.

The bucket scheme is fixed in code and never depends on the data, which is what makes histograms from
different hours, days and regions addable. Latencies are whole milliseconds (``round_ms``, the same rounding
the raw ``check_results.latency_ms`` column uses):

- 0 to 99 ms: one bucket per millisecond, so low latencies are exact;
- 100 ms up to ``TRACKED_MAX_MS`` (10 minutes): each bucket is ``lower // 50`` ms wide, a relative width of
  at most 2 %, and its representative value is its middle, within 1 % of any latency in it;
- beyond that, one overflow bucket whose representative is its lower bound.

Histograms are stored sparse, as ``{str(bucket_index): count}`` (JSON object keys are strings), so an hour
with a steady latency is a handful of keys. Percentiles use the nearest-rank definition: the value of rank
``ceil(p / 100 * n)`` in sorted order, here the representative of the bucket holding that rank.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

# {str(bucket index): count}, only non-zero counts.
LatencyHistogram = dict[str, int]

LINEAR_LIMIT_MS = 100
# Width of a log-scale bucket starting at ``lower``: lower // WIDTH_DIVISOR, i.e. 2 % of its lower bound.
WIDTH_DIVISOR = 50
TRACKED_MAX_MS = 600_000
# The widest bucket relative to any value in it; a representative is within half of this of the value.
RELATIVE_RESOLUTION = 1 / WIDTH_DIVISOR


def _lower_bounds() -> tuple[int, ...]:
    bounds = list(range(LINEAR_LIMIT_MS))
    lower = LINEAR_LIMIT_MS
    while lower < TRACKED_MAX_MS:
        bounds.append(lower)
        lower += max(1, lower // WIDTH_DIVISOR)
    bounds.append(lower)  # the overflow bucket: [lower, infinity)
    return tuple(bounds)


_LOWER: tuple[int, ...] = _lower_bounds()
BUCKET_COUNT = len(_LOWER)
OVERFLOW_INDEX = BUCKET_COUNT - 1


def round_ms(latency_ms: float) -> int:
    """Whole milliseconds, halves rounded up; negative and non-finite values become 0."""
    if not latency_ms > 0:  # also NaN
        return 0
    if math.isinf(latency_ms):
        return _LOWER[OVERFLOW_INDEX]
    return math.floor(latency_ms + 0.5)


def bucket_index(latency_ms: float) -> int:
    """The bucket that counts ``latency_ms`` (rounded to whole milliseconds first)."""
    value = round_ms(latency_ms)
    if value < LINEAR_LIMIT_MS:
        return value
    return bisect_right(_LOWER, value) - 1


def bucket_bounds(index: int) -> tuple[int, int | None]:
    """``(lower, upper)`` in whole milliseconds, upper exclusive; None for the overflow bucket."""
    _check_index(index)
    upper = _LOWER[index + 1] if index < OVERFLOW_INDEX else None
    return _LOWER[index], upper


def bucket_value(index: int) -> int:
    """The value a bucket reports: its middle (exact in the 1 ms buckets), the lower bound on overflow."""
    lower, upper = bucket_bounds(index)
    if upper is None:
        return lower
    return lower + (upper - lower - 1) // 2


def add_latency(histogram: LatencyHistogram, latency_ms: float, count: int = 1) -> LatencyHistogram:
    """Count ``latency_ms`` ``count`` times in ``histogram`` (changed in place, and returned)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    if count:
        key = str(bucket_index(latency_ms))
        histogram[key] = histogram.get(key, 0) + count
    return histogram


def histogram_of(latencies: Iterable[float]) -> LatencyHistogram:
    """A new histogram counting every latency."""
    histogram: LatencyHistogram = {}
    for latency in latencies:
        add_latency(histogram, latency)
    return histogram


def merge_into(target: LatencyHistogram, source: Mapping[str, int]) -> LatencyHistogram:
    """Add ``source``'s counts to ``target`` (changed in place, and returned)."""
    for key, count in source.items():
        if count:
            target[key] = target.get(key, 0) + count
    return target


def merge(*histograms: Mapping[str, int]) -> LatencyHistogram:
    """A new histogram holding the counts of all of them: associative and commutative."""
    merged: LatencyHistogram = {}
    for histogram in histograms:
        merge_into(merged, histogram)
    return merged


def total(histogram: Mapping[str, int]) -> int:
    """How many latencies the histogram counts."""
    return sum(histogram.values())


def nearest_rank(count: int, p: float) -> int:
    """The 1-based rank of percentile ``p`` (0..100) among ``count`` sorted values: ceil(p/100 * count).

    Computed on exact fractions so that e.g. p95 of 20 values is rank 19, not 20 through float error.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if count < 1:
        raise ValueError("count must be >= 1")
    return max(1, math.ceil(Fraction(repr(float(p))) * count / 100))


def percentiles(histogram: Mapping[str, int], ps: Sequence[float]) -> list[int | None]:
    """Nearest-rank percentiles ``ps`` (each 0..100), one pass; None for each when the histogram is empty."""
    items = sorted((int(key), count) for key, count in histogram.items() if count > 0)
    count = sum(c for _, c in items)
    if count == 0:
        return [None for _ in ps]
    ranks = sorted((nearest_rank(count, p), position) for position, p in enumerate(ps))
    answers: list[int | None] = [None] * len(ps)
    buckets = iter(items)
    index, seen = next(buckets)
    for rank, position in ranks:
        while seen < rank:  # ranks never exceed the total, so the iterator cannot run out
            index, bucket_count = next(buckets)
            seen += bucket_count
        answers[position] = bucket_value(index)
    return answers


def percentile(histogram: Mapping[str, int], p: float) -> int | None:
    """The nearest-rank percentile ``p`` (0..100), or None when the histogram is empty."""
    return percentiles(histogram, [p])[0]


def parse_histogram(value: object) -> LatencyHistogram:
    """A histogram as stored (a JSON object, or the dense list an older schema defaulted to), normalised."""
    if value is None:
        return {}
    pairs: Iterable[tuple[object, object]]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = enumerate(value)
    else:
        raise ValueError(f"not a latency histogram: {type(value).__name__}")
    histogram: LatencyHistogram = {}
    for key, count in pairs:
        index = int(str(key))
        _check_index(index)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"bucket {index} has a bad count {count!r}")
        if count:
            histogram[str(index)] = histogram.get(str(index), 0) + count
    return histogram


def _check_index(index: int) -> None:
    if not 0 <= index < BUCKET_COUNT:
        raise ValueError(f"bucket index {index} out of range 0..{OVERFLOW_INDEX}")
