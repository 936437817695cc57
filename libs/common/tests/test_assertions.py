"""Assertion evaluation: every comparator of every kind, passing and failing, with its message."""

from __future__ import annotations

import pytest

from openstatus_common.messages.checks import AssertionSpec
from openstatus_common.rules import default_status_ok, evaluate
from openstatus_common.vocab import Comparator

C = Comparator


def status(comparator: Comparator, target: str) -> AssertionSpec:
    return AssertionSpec(kind="statusCode", comparator=comparator, target=target)


def body(comparator: Comparator, target: str = "") -> AssertionSpec:
    return AssertionSpec(kind="textBody", comparator=comparator, target=target)


def header(key: str, comparator: Comparator, target: str = "") -> AssertionSpec:
    return AssertionSpec(kind="header", comparator=comparator, target=target, key=key)


def record(key: str, comparator: Comparator, target: str) -> AssertionSpec:
    return AssertionSpec(kind="record", comparator=comparator, target=target, key=key)


# --- status code: numbers --------------------------------------------------------------------------

STATUS_CASES = [
    # (comparator, target, actual, expected failure or None)
    (C.EQ, "200", 200, None),
    (C.EQ, "200", 500, "status code 500 is not eq 200"),
    (C.NEQ, "500", 200, None),
    (C.NEQ, "500", 500, "status code 500 is not neq 500"),
    (C.GT, "199", 200, None),
    (C.GT, "200", 200, "status code 200 is not gt 200"),
    (C.GTE, "200", 200, None),
    (C.GTE, "300", 200, "status code 200 is not gte 300"),
    (C.LT, "300", 200, None),
    (C.LT, "300", 301, "status code 301 is not lt 300"),
    (C.LTE, "300", 300, None),
    (C.LTE, "299", 300, "status code 300 is not lte 299"),
]


@pytest.mark.parametrize(("comparator", "target", "actual", "failure"), STATUS_CASES)
def test_status_code(comparator: Comparator, target: str, actual: int, failure: str | None) -> None:
    assert evaluate([status(comparator, target)], status_code=actual) == ([failure] if failure else [])


def test_status_code_assertion_replaces_the_default_2xx_rule() -> None:
    assert evaluate([status(C.EQ, "404")], status_code=404) == []
    assert evaluate([status(C.GTE, "200"), status(C.LT, "400")], status_code=301) == []


@pytest.mark.parametrize(("code", "ok"), [(199, False), (200, True), (204, True), (299, True), (301, False)])
def test_default_is_2xx_when_there_is_no_status_assertion(code: int, ok: bool) -> None:
    assert default_status_ok(code) is ok
    expected = [] if ok else [f"status code {code} is not 2xx"]
    assert evaluate([], status_code=code) == expected
    # A body assertion does not lift the default rule.
    assert evaluate([body(C.CONTAINS, "")], status_code=code, body="x") == expected


def test_status_code_target_that_is_not_a_number_fails_with_a_reason() -> None:
    assert evaluate([status(C.EQ, "ok")], status_code=200) == [
        'status code assertion target "ok" is not a number'
    ]


def test_status_code_assertion_without_a_status_code() -> None:
    assert evaluate([status(C.EQ, "200")], dns_records={}) == [
        "no status code to assert on (statusCode assertions apply to HTTP monitors)"
    ]


# --- body: strings -----------------------------------------------------------------------------------

BODY_CASES = [
    (C.CONTAINS, "ok", '{"status":"ok"}', None),
    (C.CONTAINS, "ok", "fail", 'body does not contain "ok"'),
    (C.NOT_CONTAINS, "error", "all fine", None),
    (C.NOT_CONTAINS, "error", "an error", 'body contains "error"'),
    (C.EQ, "pong", "pong", None),
    (C.EQ, "pong", "ping", 'body "ping" is not eq "pong"'),
    (C.NEQ, "down", "up", None),
    (C.NEQ, "down", "down", 'body "down" is not neq "down"'),
    (C.EMPTY, "", "", None),
    (C.EMPTY, "", "x", "body is not empty"),
    (C.NOT_EMPTY, "", "x", None),
    (C.NOT_EMPTY, "", "", "body is empty"),
    # gt/gte/lt/lte are lexicographic: "10" < "9".
    (C.GT, "9", "b", None),
    (C.GT, "9", "10", 'body "10" is not gt "9"'),
    (C.GTE, "abc", "abc", None),
    (C.GTE, "abd", "abc", 'body "abc" is not gte "abd"'),
    (C.LT, "9", "10", None),
    (C.LT, "a", "b", 'body "b" is not lt "a"'),
    (C.LTE, "b", "b", None),
    (C.LTE, "a", "b", 'body "b" is not lte "a"'),
]


@pytest.mark.parametrize(("comparator", "target", "actual", "failure"), BODY_CASES)
def test_body(comparator: Comparator, target: str, actual: str, failure: str | None) -> None:
    assert evaluate([body(comparator, target)], body=actual) == ([failure] if failure else [])


def test_long_bodies_are_shortened_in_messages() -> None:
    [message] = evaluate([body(C.EQ, "short")], body="x" * 5000)
    assert message == 'body "' + "x" * 80 + '..." is not eq "short"'


# --- header: strings on a header value -------------------------------------------------------------

HEADERS = {"Content-Type": "text/html; charset=utf-8", "X-Empty": "", "Cache-Control": "max-age=60"}

HEADER_CASES = [
    ("content-type", C.CONTAINS, "html", None),
    (
        "content-type",
        C.CONTAINS,
        "json",
        'header content-type: "text/html; charset=utf-8" does not contain "json"',
    ),
    ("CONTENT-TYPE", C.NOT_CONTAINS, "json", None),
    (
        "content-type",
        C.NOT_CONTAINS,
        "html",
        'header content-type: "text/html; charset=utf-8" contains "html"',
    ),
    ("cache-control", C.EQ, "max-age=60", None),
    ("cache-control", C.EQ, "no-store", 'header cache-control: "max-age=60" is not eq "no-store"'),
    ("cache-control", C.NEQ, "no-store", None),
    ("cache-control", C.NEQ, "max-age=60", 'header cache-control: "max-age=60" is not neq "max-age=60"'),
    ("x-empty", C.EMPTY, "", None),
    ("x-absent", C.EMPTY, "", None),
    ("cache-control", C.EMPTY, "", 'header cache-control: "max-age=60" is not empty'),
    ("cache-control", C.NOT_EMPTY, "", None),
    ("x-empty", C.NOT_EMPTY, "", 'header x-empty: "" is empty'),
    ("x-absent", C.NOT_EMPTY, "", "header x-absent is missing"),
    ("cache-control", C.GT, "max-age=5", None),
    ("cache-control", C.GT, "max-age=7", 'header cache-control: "max-age=60" is not gt "max-age=7"'),
    ("cache-control", C.GTE, "max-age=60", None),
    ("cache-control", C.GTE, "z", 'header cache-control: "max-age=60" is not gte "z"'),
    ("cache-control", C.LT, "max-age=7", None),
    ("cache-control", C.LT, "max-age=5", 'header cache-control: "max-age=60" is not lt "max-age=5"'),
    ("cache-control", C.LTE, "max-age=60", None),
    ("cache-control", C.LTE, "a", 'header cache-control: "max-age=60" is not lte "a"'),
    # A missing header is not equal to / does not contain anything, and fails everything else.
    ("x-absent", C.NEQ, "x", None),
    ("x-absent", C.NOT_CONTAINS, "x", None),
    ("x-absent", C.EQ, "x", 'header x-absent is missing (expected eq "x")'),
    ("x-absent", C.CONTAINS, "x", 'header x-absent is missing (expected contains "x")'),
    ("x-absent", C.GT, "x", 'header x-absent is missing (expected gt "x")'),
]


@pytest.mark.parametrize(("key", "comparator", "target", "failure"), HEADER_CASES)
def test_header(key: str, comparator: Comparator, target: str, failure: str | None) -> None:
    assert evaluate([header(key, comparator, target)], headers=HEADERS) == ([failure] if failure else [])


def test_header_assertion_without_a_name() -> None:
    assert evaluate([header("", C.EMPTY)], headers=HEADERS) == ["header assertion needs a header name (key)"]


# --- record: DNS record values ---------------------------------------------------------------------

RECORDS = {
    "A": ["192.0.2.1", "192.0.2.2"],
    "MX": ["10 mail.example.com", "20 backup.example.com"],
    "TXT": ["v=spf1 include:_spf.example.com ~all"],
    "AAAA": [],
}

RECORD_CASES = [
    ("A", C.EQ, "192.0.2.2", None),
    ("A", C.EQ, "192.0.2.9", 'A records ["192.0.2.1", "192.0.2.2"] do not include "192.0.2.9"'),
    ("A", C.NEQ, "192.0.2.9", None),
    ("A", C.NEQ, "192.0.2.1", 'A records ["192.0.2.1", "192.0.2.2"] include "192.0.2.1"'),
    ("MX", C.CONTAINS, "mail.example", None),
    (
        "MX",
        C.CONTAINS,
        "google",
        'no MX record in ["10 mail.example.com", "20 backup.example.com"] contains "google"',
    ),
    ("TXT", C.NOT_CONTAINS, "-all", None),
    ("TXT", C.NOT_CONTAINS, "~all", 'TXT record "v=spf1 include:_spf.example.com ~all" contains "~all"'),
    # No values: eq and contains fail, neq and not_contains pass; the type is case-insensitive.
    ("aaaa", C.EQ, "::1", 'AAAA records [] do not include "::1"'),
    ("AAAA", C.CONTAINS, "::", 'no AAAA record in [] contains "::"'),
    ("CNAME", C.NEQ, "x.example.com", None),
    ("NS", C.NOT_CONTAINS, "ns", None),
]


@pytest.mark.parametrize(("key", "comparator", "target", "failure"), RECORD_CASES)
def test_record(key: str, comparator: Comparator, target: str, failure: str | None) -> None:
    assert evaluate([record(key, comparator, target)], dns_records=RECORDS) == ([failure] if failure else [])


@pytest.mark.parametrize("comparator", [C.GT, C.GTE, C.LT, C.LTE, C.EMPTY, C.NOT_EMPTY])
def test_comparators_that_do_not_apply_to_records_fail(comparator: Comparator) -> None:
    assert evaluate([record("A", comparator, "x")], dns_records=RECORDS) == [
        f"comparator {comparator.value} does not apply to record assertions"
    ]


@pytest.mark.parametrize("comparator", [C.CONTAINS, C.NOT_CONTAINS, C.EMPTY, C.NOT_EMPTY])
def test_string_comparators_do_not_apply_to_status_codes(comparator: Comparator) -> None:
    assert evaluate([status(comparator, "200")], status_code=200) == [
        f"comparator {comparator.value} does not apply to statusCode assertions"
    ]


def test_record_assertion_needs_records_and_a_type() -> None:
    assert evaluate([record("A", C.EQ, "x")], status_code=200) == [
        "no DNS records to assert on (record assertions apply to DNS monitors)"
    ]
    assert evaluate([record("", C.EQ, "x")], dns_records=RECORDS) == [
        "record assertion needs a record type (key)"
    ]


# --- several at once ---------------------------------------------------------------------------------


def test_every_failure_is_reported_in_order() -> None:
    failures = evaluate(
        [status(C.EQ, "200"), body(C.CONTAINS, "ok"), header("content-type", C.CONTAINS, "json")],
        status_code=503,
        body="maintenance",
        headers=HEADERS,
    )
    assert failures == [
        "status code 503 is not eq 200",
        'body does not contain "ok"',
        'header content-type: "text/html; charset=utf-8" does not contain "json"',
    ]


def test_all_passing_is_an_empty_list() -> None:
    assert (
        evaluate(
            [status(C.EQ, "200"), body(C.CONTAINS, "ok"), header("Content-Type", C.CONTAINS, "text")],
            status_code=200,
            body="ok",
            headers=HEADERS,
        )
        == []
    )


def test_body_assertion_without_a_body() -> None:
    assert evaluate([body(C.EMPTY)], dns_records={}) == [
        "no response body to assert on (textBody assertions apply to HTTP monitors)"
    ]
