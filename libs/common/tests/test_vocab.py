"""Vocabulary tables accept every surface's spelling and reject the rest with the choices listed."""

from __future__ import annotations

import pytest

from openstatus_common.vocab import (
    CHECK_OUTCOME,
    HTTP_METHOD,
    MONITOR_STATUS,
    PERIODICITY,
    REGIONS,
    STATUS_REPORT_STATUS,
    AssertionKind,
    CheckOutcome,
    Comparator,
    HttpMethod,
    MonitorStatus,
    Periodicity,
    Region,
    StatusReportStatus,
    parse_comparator,
    parse_region,
)
from openstatus_common.vocab.assertions import wire_name


def test_there_are_28_regions_numbered_as_the_sdk() -> None:
    assert len(REGIONS) == 28
    assert [info.number for info in REGIONS] == list(range(1, 29))
    assert Region.FLY_SJC.number == 15 and Region.FLY_SIN.number == 16
    assert Region.RAILWAY_ASIA_SOUTHEAST1.number == 28
    assert Region.FLY_IAD.info.city == "Washington D.C."


@pytest.mark.parametrize(
    "spelling",
    ["ams", "AMS", "fly-ams", "FLY_AMS", "REGION_FLY_AMS", "region_fly_ams", "1", 1, " ams "],
)
def test_region_in_any_spelling(spelling: object) -> None:
    assert parse_region(spelling) is Region.FLY_AMS


@pytest.mark.parametrize(
    ("spelling", "region"),
    [
        ("koyeb-fra", Region.KOYEB_FRA),
        ("koyeb_fra", Region.KOYEB_FRA),
        ("railway-us-east4", Region.RAILWAY_US_EAST4),
        ("railway_us-east4-eqdc4a", Region.RAILWAY_US_EAST4),
        ("us-east4-eqdc4a", Region.RAILWAY_US_EAST4),
        ("REGION_RAILWAY_EUROPE_WEST4", Region.RAILWAY_EUROPE_WEST4),
    ],
)
def test_non_fly_regions(spelling: str, region: Region) -> None:
    assert parse_region(spelling) is region


@pytest.mark.parametrize("bad", ["hkg", "", "REGION_UNSPECIFIED", 0, 29, True, None, 1.5])
def test_unknown_regions_are_refused_with_the_choices(bad: object) -> None:
    with pytest.raises(ValueError, match="region"):
        parse_region(bad)


def test_periodicities() -> None:
    assert [p.seconds for p in Periodicity] == [30, 60, 300, 600, 1800, 3600]
    for spelling in ("1m", "PERIODICITY_1M", "2", 2, "P1M"):
        assert PERIODICITY.parse(spelling) is Periodicity.P1M
    assert PERIODICITY.wire(Periodicity.P30S) == "PERIODICITY_30S"
    assert PERIODICITY.number(Periodicity.P1H) == 6
    with pytest.raises(ValueError, match="expected one of: 30s, 1m, 5m, 10m, 30m, 1h"):
        PERIODICITY.parse("2m")


def test_http_methods() -> None:
    assert HTTP_METHOD.parse("post") is HttpMethod.POST
    assert HTTP_METHOD.parse("HTTP_METHOD_OPTIONS") is HttpMethod.OPTIONS
    assert HTTP_METHOD.number(HttpMethod.OPTIONS) == 9
    assert HTTP_METHOD.from_number(8) is HttpMethod.CONNECT
    with pytest.raises(ValueError, match="HTTP method"):
        HTTP_METHOD.parse("FETCH")


@pytest.mark.parametrize(
    ("kind", "valid", "invalid"),
    [
        (AssertionKind.STATUS_CODE, ["eq", "neq", "gt", "gte", "lt", "lte"], ["contains", "empty"]),
        (
            AssertionKind.BODY,
            ["eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "empty", "not_empty"],
            [],
        ),
        (AssertionKind.HEADER, ["contains", "empty", "not_empty"], []),
        (AssertionKind.RECORD, ["eq", "neq", "contains", "not_contains"], ["gt", "empty"]),
    ],
)
def test_comparators_per_kind(kind: AssertionKind, valid: list[str], invalid: list[str]) -> None:
    for name in valid:
        assert parse_comparator(kind, name) is Comparator(name)
    for name in invalid:
        with pytest.raises(ValueError, match=f"not valid for {kind.value}"):
            parse_comparator(kind, name)


def test_comparator_wire_names_and_yaml_spelling() -> None:
    assert (
        parse_comparator(AssertionKind.STATUS_CODE, "NUMBER_COMPARATOR_GREATER_THAN_OR_EQUAL")
        is Comparator.GTE
    )
    assert parse_comparator(AssertionKind.BODY, "STRING_COMPARATOR_NOT_CONTAINS") is Comparator.NOT_CONTAINS
    assert parse_comparator(AssertionKind.RECORD, "RECORD_COMPARATOR_CONTAINS") is Comparator.CONTAINS
    assert parse_comparator(AssertionKind.BODY, "not_eq") is Comparator.NEQ
    assert wire_name(AssertionKind.RECORD, Comparator.NOT_CONTAINS) == "RECORD_COMPARATOR_NOT_CONTAINS"
    assert wire_name(AssertionKind.STATUS_CODE, Comparator.EQ) == "NUMBER_COMPARATOR_EQUAL"


def test_statuses() -> None:
    assert MONITOR_STATUS.parse("MONITOR_STATUS_DEGRADED") is MonitorStatus.DEGRADED
    assert MONITOR_STATUS.number(MonitorStatus.ERROR) == 3
    assert CHECK_OUTCOME.parse("down") is CheckOutcome.ERROR
    assert STATUS_REPORT_STATUS.parse("STATUS_REPORT_STATUS_MONITORING") is StatusReportStatus.MONITORING
    assert STATUS_REPORT_STATUS.number(StatusReportStatus.RESOLVED) == 4
