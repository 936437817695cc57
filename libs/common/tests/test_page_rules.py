"""Component status precedence (seed page 26), the page's overall status, and the tracker's modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openstatus_common.pages.status import (
    ComponentStatus,
    OverallStatus,
    component_status,
    overall_status,
    widget_status,
)
from openstatus_common.pages.tracker import BarType, CardType, Counts, Happening, TrackerConfig, build_tracker
from openstatus_common.rules.uptime import Interval

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("is_monitor", "incident", "report", "maintenance", "expected"),
    [
        (True, True, True, True, ComponentStatus.ERROR),
        (True, False, True, True, ComponentStatus.DEGRADED),
        (True, False, False, True, ComponentStatus.INFO),
        (True, False, False, False, ComponentStatus.SUCCESS),
        # Static components never show incidents.
        (False, True, False, False, ComponentStatus.SUCCESS),
        (False, True, True, True, ComponentStatus.DEGRADED),
        (False, False, False, True, ComponentStatus.INFO),
    ],
)
def test_component_status_precedence(
    is_monitor: bool, incident: bool, report: bool, maintenance: bool, expected: ComponentStatus
) -> None:
    assert (
        component_status(
            is_monitor=is_monitor,
            open_incident=incident,
            unresolved_report=report,
            in_maintenance=maintenance,
        )
        is expected
    )


def test_a_degraded_monitor_shows_degraded_below_incidents() -> None:
    assert (
        component_status(
            is_monitor=True,
            open_incident=False,
            unresolved_report=False,
            in_maintenance=True,
            monitor_degraded=True,
        )
        is ComponentStatus.DEGRADED
    )


def test_overall_status_and_widget_vocabulary() -> None:
    S = ComponentStatus
    assert (
        overall_status([S.ERROR, S.ERROR], unresolved_reports=False, ongoing_maintenance=False)
        is OverallStatus.MAJOR_OUTAGE
    )
    assert (
        overall_status([S.ERROR, S.SUCCESS], unresolved_reports=False, ongoing_maintenance=False)
        is OverallStatus.PARTIAL_OUTAGE
    )
    assert (
        overall_status([S.SUCCESS], unresolved_reports=True, ongoing_maintenance=False)
        is OverallStatus.DEGRADED
    )
    assert (
        overall_status([S.INFO, S.SUCCESS], unresolved_reports=False, ongoing_maintenance=False)
        is OverallStatus.MAINTENANCE
    )
    assert (
        overall_status([], unresolved_reports=False, ongoing_maintenance=False) is OverallStatus.OPERATIONAL
    )
    assert widget_status(OverallStatus.DEGRADED, unresolved_reports=True) == "incident"
    assert widget_status(OverallStatus.DEGRADED, unresolved_reports=False) == "degraded_performance"
    assert widget_status(OverallStatus.MAINTENANCE, unresolved_reports=False) == "under_maintenance"


def test_tracker_config_falls_back_to_defaults() -> None:
    assert TrackerConfig.from_json(None) == TrackerConfig()
    assert TrackerConfig.from_json(
        {"barType": "manual", "cardType": "bogus", "showUptime": "yes"}
    ) == TrackerConfig(bar_type=BarType.MANUAL)


def _tracker(config: TrackerConfig, **kwargs: object) -> object:
    defaults: dict[str, object] = {
        "is_monitor": True,
        "now": NOW,
        "since": NOW - timedelta(days=200),
        "counts": {},
        "incidents": (),
        "reports": (),
        "maintenances": (),
        "days": 3,
    }
    defaults.update(kwargs)
    return build_tracker(config=config, **defaults)  # type: ignore[arg-type]


def test_requests_mode_counts_checks_and_days_without_checks_have_no_data() -> None:
    yesterday = (TODAY - timedelta(days=1)).date()
    tracker = _tracker(TrackerConfig(), counts={yesterday: Counts(998, 1, 1)})
    bars = tracker.bars  # type: ignore[attr-defined]
    assert [bar.status for bar in bars] == ["empty", "degraded", "empty"]
    assert bars[1].uptime == 99.9
    assert tracker.uptime == 99.9  # type: ignore[attr-defined]
    assert dict(bars[1].segments)["success"] == pytest.approx(0.998)


def test_duration_mode_merges_incidents_and_reports_and_excludes_maintenance() -> None:
    start = TODAY - timedelta(days=1)
    incident = Happening("incident", 1, "", Interval(start + timedelta(hours=1), start + timedelta(hours=3)))
    # Overlaps the incident by an hour: counted once.
    report = Happening("report", 2, "r", Interval(start + timedelta(hours=2), start + timedelta(hours=4)))
    maintenance = Happening(
        "maintenance", 3, "m", Interval(start + timedelta(hours=12), start + timedelta(hours=18))
    )
    tracker = _tracker(
        TrackerConfig(card_type=CardType.DURATION),
        counts={start.date(): Counts(100)},
        incidents=[incident],
        reports=[report],
        maintenances=[maintenance],
    )
    bar = tracker.bars[1]  # type: ignore[attr-defined]
    assert bar.status == "error"
    # 3 h down out of 18 measured hours.
    assert bar.uptime == pytest.approx(83.333)
    assert {h.kind for h in bar.happenings} == {"incident", "report", "maintenance"}


def test_manual_mode_uses_reports_only_and_static_components_have_data_from_creation() -> None:
    start = TODAY - timedelta(days=1)
    report = Happening("report", 2, "r", Interval(start, start + timedelta(hours=6)))
    tracker = _tracker(
        TrackerConfig(bar_type=BarType.MANUAL),
        is_monitor=False,
        since=start,
        incidents=[Happening("incident", 1, "", Interval(start, start + timedelta(hours=24)))],
        reports=[report],
    )
    bars = tracker.bars  # type: ignore[attr-defined]
    assert [bar.status for bar in bars] == ["empty", "degraded", "success"]
    assert bars[1].uptime == 75.0
    assert bars[1].segments == (("degraded", 1.0),)


def test_a_report_dated_before_a_static_component_existed_starts_its_record() -> None:
    """The bars and the uptime agree: the days between the report and the creation are measured, not empty."""
    two_days_ago = TODAY - timedelta(days=2)
    report = Happening("report", 2, "r", Interval(two_days_ago, two_days_ago + timedelta(hours=6)))
    tracker = _tracker(TrackerConfig(), is_monitor=False, since=NOW - timedelta(hours=1), reports=[report])
    bars = tracker.bars  # type: ignore[attr-defined]
    assert [bar.status for bar in bars] == ["degraded", "success", "success"]
    # 6 h degraded of 2 days and 12 hours.
    assert tracker.uptime == pytest.approx(90.0)  # type: ignore[attr-defined]


def test_manual_mode_ignores_incidents_of_monitor_components() -> None:
    """A red day next to 100% uptime would contradict itself: in manual mode only reports colour the days."""
    start = TODAY - timedelta(days=1)
    tracker = _tracker(
        TrackerConfig(bar_type=BarType.MANUAL),
        is_monitor=True,
        since=start,
        counts={start.date(): Counts(10, 0, 10)},
        incidents=[Happening("incident", 1, "", Interval(start, start + timedelta(hours=2)))],
    )
    bars = tracker.bars  # type: ignore[attr-defined]
    assert bars[1].status == "success"
    assert bars[1].happenings == ()
    assert bars[1].uptime == 100.0


def test_duration_uptime_counts_only_days_with_data() -> None:
    # Checks on the first and last day, none in between (a paused monitor): the gap is no data, not uptime.
    first = (TODAY - timedelta(days=2)).date()
    incident = Happening(
        "incident",
        1,
        "",
        Interval(TODAY - timedelta(days=2), TODAY - timedelta(days=2) + timedelta(hours=12)),
    )
    tracker = _tracker(
        TrackerConfig(card_type=CardType.DURATION),
        counts={first: Counts(10), TODAY.date(): Counts(10)},
        incidents=[incident],
    )
    bars = tracker.bars  # type: ignore[attr-defined]
    assert [bar.status for bar in bars] == ["error", "empty", "success"]
    # 12 h down of 24 h + 12 h (today until noon) measured.
    assert tracker.uptime == pytest.approx(66.666)  # type: ignore[attr-defined]
