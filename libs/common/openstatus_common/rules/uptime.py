"""Uptime maths for status pages: the one implementation of every mode (seed pages 03 and 04).

- duration: ``(total - downtime) / total`` over a window, where downtime is the union of incident and
  report-impact intervals (overlaps count once) and maintenance is taken out of both the total and the
  downtime.
- requests: ``(success + degraded) / total checks``.
- manual: the duration formula over status-report intervals only.

Percentages are floored to 3 decimals, so one failure in a million checks shows 99.999, never 100.000.
A window with nothing to measure (no checks, or entirely under maintenance) has no uptime: None, which a
page shows as "no data", never as green.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering exactly the union of ``intervals`` (touching ones join)."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if interval.start == interval.end:
            continue
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of ``intervals`` inside ``window``, merged."""
    inside = (
        Interval(max(i.start, window.start), min(i.end, window.end))
        for i in intervals
        if i.end > window.start and i.start < window.end
    )
    return merge(inside)


def subtract(intervals: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """``intervals`` minus ``removed``, merged."""
    result: list[Interval] = []
    cuts = merge(removed)
    for interval in merge(intervals):
        pieces = [interval]
        for cut in cuts:
            next_pieces = []
            for piece in pieces:
                if cut.end <= piece.start or cut.start >= piece.end:
                    next_pieces.append(piece)
                    continue
                if cut.start > piece.start:
                    next_pieces.append(Interval(piece.start, cut.start))
                if cut.end < piece.end:
                    next_pieces.append(Interval(cut.end, piece.end))
            pieces = next_pieces
        result.extend(pieces)
    return merge(result)


def total_length(intervals: Iterable[Interval]) -> timedelta:
    return sum((i.length for i in merge(intervals)), timedelta())


def floor_percent(ratio: Fraction) -> float:
    """``ratio`` (0..1) as a percentage floored to 3 decimals, computed exactly (no float rounding up)."""
    return floor_ratio(ratio.numerator, ratio.denominator)


def floor_ratio(part: int, whole: int) -> float:
    """``part / whole`` as a percentage floored to 3 decimals, in integers (exact, and cheap)."""
    return (part * 100_000 // whole) / 1000


def duration_uptime(
    window: Interval, downtime: Iterable[Interval], maintenance: Iterable[Interval] = ()
) -> float | None:
    """Time-based uptime over ``window``; None when no time in it is measurable."""
    excluded = clip(maintenance, window)
    measured = subtract([window], excluded)
    total = total_length(measured)
    if total <= timedelta():
        return None
    down = total_length(subtract(clip(downtime, window), excluded))
    return floor_ratio(_micros(total - down), _micros(total))


def requests_uptime(success: int, degraded: int, error: int) -> float | None:
    """Check-based uptime: degraded checks count as up; None when there were no checks."""
    if min(success, degraded, error) < 0:
        raise ValueError("check counts cannot be negative")
    total = success + degraded + error
    if total == 0:
        return None
    return floor_ratio(success + degraded, total)


def manual_uptime(
    window: Interval, report_impacts: Iterable[Interval], maintenance: Iterable[Interval] = ()
) -> float | None:
    """Uptime from status reports alone (the page's manual mode)."""
    return duration_uptime(window, report_impacts, maintenance)


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
