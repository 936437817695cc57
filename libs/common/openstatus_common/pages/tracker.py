"""The 90-day tracker: one bar per day and the uptime beside it, by the page's tracker mode (seed page 04).

- bar type ``absolute`` (default) reads monitoring data; its card is ``requests`` (default: counts of
  checks) or ``duration`` (time in incidents, reports and maintenance);
- bar type ``manual`` shows only the most significant status of each day, from reports and maintenance.

Bars are proportional: each carries segments (status, fraction of the day or of the checks). A day with
nothing to show is ``empty`` ("no data"), never green. The uptime maths is ``rules.uptime``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from openstatus_common.rules.uptime import (
    Interval,
    clip,
    duration_uptime,
    floor_ratio,
    manual_uptime,
    requests_uptime,
    subtract,
    total_length,
)

DAYS = 90
DAY = timedelta(days=1)
ZERO = timedelta()


class BarType(StrEnum):
    ABSOLUTE = "absolute"
    MANUAL = "manual"


class CardType(StrEnum):
    DURATION = "duration"
    REQUESTS = "requests"


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    bar_type: BarType = BarType.ABSOLUTE
    card_type: CardType = CardType.REQUESTS
    show_uptime: bool = True

    @classmethod
    def from_json(cls, raw: object) -> TrackerConfig:
        """The page's stored ``tracker`` JSON; anything unknown falls back to the defaults."""
        if not isinstance(raw, dict):
            return cls()
        bar = raw.get("barType")
        card = raw.get("cardType")
        show = raw.get("showUptime")
        return cls(
            bar_type=BarType(bar)
            if isinstance(bar, str) and bar in BarType._value2member_map_
            else BarType.ABSOLUTE,
            card_type=(
                CardType(card)
                if isinstance(card, str) and card in CardType._value2member_map_
                else CardType.REQUESTS
            ),
            show_uptime=show if isinstance(show, bool) else True,
        )


@dataclass(frozen=True, slots=True)
class Counts:
    success: int = 0
    degraded: int = 0
    error: int = 0

    @property
    def total(self) -> int:
        return self.success + self.degraded + self.error

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.success + other.success, self.degraded + other.degraded, self.error + other.error)


@dataclass(frozen=True, slots=True)
class Happening:
    """Something that touched a day: an incident, a report or a maintenance."""

    kind: str  # "incident" | "report" | "maintenance"
    id: int
    title: str
    interval: Interval


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    status: str  # "success" | "degraded" | "error" | "info" | "empty"
    # (status, fraction) pieces of the bar, most significant first, fractions summing to 1 (empty: none).
    segments: tuple[tuple[str, float], ...]
    uptime: float | None
    counts: Counts
    downtime: timedelta
    degraded_time: timedelta
    maintenance_time: timedelta
    happenings: tuple[Happening, ...]


@dataclass(frozen=True, slots=True)
class Tracker:
    bars: tuple[DayBar, ...]
    uptime: float | None


def tracker_days(now: datetime, days: int = DAYS) -> list[date]:
    today = now.astimezone(UTC).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def day_window(day: date, now: datetime) -> Interval:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return Interval(start, min(start + DAY, max(now, start)))


def build_tracker(
    *,
    config: TrackerConfig,
    is_monitor: bool,
    now: datetime,
    since: datetime,
    counts: dict[date, Counts],
    incidents: Sequence[Happening],
    reports: Sequence[Happening],
    maintenances: Sequence[Happening],
    days: int = DAYS,
) -> Tracker:
    """The bars and the window's uptime for one component.

    ``since`` is when the component could first have data (its creation); ``counts`` are its checks per day
    (monitor components only). Incidents only count for monitor components, and not in manual mode: there
    the operator's reports (and maintenance) alone colour the days and make the uptime.
    """
    if not is_monitor or config.bar_type is BarType.MANUAL:
        incidents = ()
    uses_checks = is_monitor and config.bar_type is BarType.ABSOLUTE
    if not uses_checks:
        # Without checks the operator's history is the data: a report or maintenance dated before the
        # component existed (history brought over from elsewhere) starts its record, so the days between
        # are measured too, in the bars and in the uptime alike.
        since = min((since, *(h.interval.start for h in (*reports, *maintenances))))
    day_list = tracker_days(now, days)
    touched = _touched_days(day_list[0], day_list[-1], (*incidents, *reports, *maintenances))
    empty = Counts()
    bars: list[DayBar] = []
    for day in day_list:
        day_counts = counts.get(day, empty)
        if day in touched:
            bars.append(
                _bar(
                    day,
                    now=now,
                    since=since,
                    config=config,
                    uses_checks=uses_checks,
                    counts=day_counts,
                    incidents=incidents,
                    reports=reports,
                    maintenances=maintenances,
                )
            )
            continue
        # The common day: nothing happened, so no interval maths.
        window = day_window(day, now)
        has_data = (day_counts.total > 0) if uses_checks else window.end > since
        if has_data:
            bars.append(_quiet_bar(day, window, config, uses_checks, day_counts))
        else:
            bars.append(DayBar(day, "empty", (), None, day_counts, ZERO, ZERO, ZERO, ()))
    return Tracker(
        bars=tuple(bars),
        uptime=_window_uptime(bars, config, uses_checks, now, incidents, reports, maintenances),
    )


def _touched_days(first: date, today: date, happenings: Sequence[Happening]) -> set[date]:
    """Every tracker day (``first`` to ``today``) that one of ``happenings`` overlaps."""
    days: set[date] = set()
    for happening in happenings:
        day = max(happening.interval.start.astimezone(UTC).date(), first)
        last = min(happening.interval.end.astimezone(UTC).date(), today)
        while day <= last:
            days.add(day)
            day += DAY
    return days


def _intervals(happenings: Sequence[Happening]) -> list[Interval]:
    return [h.interval for h in happenings]


def _bar(
    day: date,
    *,
    now: datetime,
    since: datetime,
    config: TrackerConfig,
    uses_checks: bool,
    counts: Counts,
    incidents: Sequence[Happening],
    reports: Sequence[Happening],
    maintenances: Sequence[Happening],
) -> DayBar:
    window = day_window(day, now)
    touching = tuple(
        h
        for h in (*incidents, *reports, *maintenances)
        if (h.interval.end > window.start and h.interval.start < window.end)
        or (h.interval.start == h.interval.end and window.start <= h.interval.start < window.end)
    )
    has_data = (counts.total > 0) if uses_checks else window.end > since
    if not touching:
        if not has_data:
            return DayBar(day, "empty", (), None, counts, ZERO, ZERO, ZERO, ())
        return _quiet_bar(day, window, config, uses_checks, counts)
    down = clip(_intervals(incidents), window)
    maint = clip(_intervals(maintenances), window)
    report_time = subtract(clip(_intervals(reports), window), down)
    downtime = total_length(subtract(down, maint))
    degraded_time = total_length(subtract(report_time, maint))
    maintenance_time = total_length(maint)
    kinds = {h.kind for h in touching}
    if "incident" in kinds:
        status = "error"
    elif "report" in kinds or (uses_checks and (counts.error or counts.degraded)):
        status = "degraded"
    elif "maintenance" in kinds:
        status = "info"
    else:
        status = "success"
    if config.bar_type is BarType.MANUAL:
        segments: tuple[tuple[str, float], ...] = ((status, 1.0),)
        uptime = manual_uptime(window, _intervals(reports), _intervals(maintenances))
    elif config.card_type is CardType.REQUESTS and uses_checks:
        segments = _shares(
            (("error", counts.error), ("degraded", counts.degraded), ("success", counts.success))
        )
        if not segments:
            segments = ((status, 1.0),)
        uptime = requests_uptime(counts.success, counts.degraded, counts.error)
    else:
        length = window.length.total_seconds() or 1.0
        segments = _shares(
            (
                ("error", downtime.total_seconds()),
                ("degraded", degraded_time.total_seconds()),
                ("info", maintenance_time.total_seconds()),
                ("success", max(0.0, length - (downtime + degraded_time + maintenance_time).total_seconds())),
            )
        )
        uptime = duration_uptime(
            window, [*_intervals(incidents), *_intervals(reports)], _intervals(maintenances)
        )
    return DayBar(day, status, segments, uptime, counts, downtime, degraded_time, maintenance_time, touching)


def _quiet_bar(
    day: date, window: Interval, config: TrackerConfig, uses_checks: bool, counts: Counts
) -> DayBar:
    """A day no incident, report or maintenance touched: only its checks can colour it."""
    if config.bar_type is BarType.ABSOLUTE and config.card_type is CardType.REQUESTS and uses_checks:
        status = "degraded" if counts.error or counts.degraded else "success"
        segments = _shares(
            (("error", counts.error), ("degraded", counts.degraded), ("success", counts.success))
        )
        uptime = requests_uptime(counts.success, counts.degraded, counts.error)
    else:
        status = (
            "degraded"
            if uses_checks and config.bar_type is BarType.ABSOLUTE and (counts.error or counts.degraded)
            else "success"
        )
        segments = (("success", 1.0),)
        uptime = 100.0 if window.length > ZERO else None
    return DayBar(day, status, segments or ((status, 1.0),), uptime, counts, ZERO, ZERO, ZERO, ())


def _shares(parts: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    total = sum(value for _, value in parts)
    if total <= 0:
        return ()
    return tuple((name, value / total) for name, value in parts if value > 0)


def _window_uptime(
    bars: Sequence[DayBar],
    config: TrackerConfig,
    uses_checks: bool,
    now: datetime,
    incidents: Sequence[Happening],
    reports: Sequence[Happening],
    maintenances: Sequence[Happening],
) -> float | None:
    measured = [bar for bar in bars if bar.status != "empty"]
    if not measured:
        return None
    if config.bar_type is BarType.ABSOLUTE and config.card_type is CardType.REQUESTS and uses_checks:
        total = sum((bar.counts for bar in measured), Counts())
        return requests_uptime(total.success, total.degraded, total.error)
    if config.bar_type is BarType.MANUAL or not uses_checks:
        # Reports alone, from the first day with data (a static component has data every day since then).
        window = Interval(day_window(measured[0].day, now).start, now)
        return manual_uptime(window, _intervals(reports), _intervals(maintenances))
    # Duration over the measured days only: a day without checks is no data, not uptime. Each bar's times
    # are already merged and clipped to its day, with maintenance taken out.
    span = sum((day_window(bar.day, now).length - bar.maintenance_time for bar in measured), ZERO)
    down = sum((bar.downtime + bar.degraded_time for bar in measured), ZERO)
    if span <= ZERO:
        return None
    return floor_ratio(_micros(span - down), _micros(span))


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
