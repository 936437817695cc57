"""Assertion evaluation: the one implementation, used by probes and by on-demand checks alike.

``evaluate`` returns one human-readable message per failed assertion; an empty list means every assertion
held. It never raises for bad input: an assertion that cannot be evaluated (a comparator that does not
apply to its kind, a non-numeric status-code target, a record assertion without a record type) fails with
a message saying why.

Semantics, per kind (``target`` is the assertion's expected value):

- ``statusCode`` compares numbers: ``eq neq gt gte lt lte``.
- ``textBody`` compares the (capped) response body as a string: ``contains not_contains eq neq empty
  not_empty gt gte lt lte``; ``gt``/``gte``/``lt``/``lte`` are lexicographic (code-point order).
- ``header`` applies the string comparators to the value of header ``key`` (names are case-insensitive).
  A missing header counts as empty for ``empty``/``not_empty``, passes ``neq`` and ``not_contains``, and
  fails every other comparator.
- ``record`` compares the values of DNS record type ``key`` (``A``, ``AAAA``, ``CNAME``, ``MX``, ``NS``,
  ``TXT``): ``eq`` passes when any value equals the target, ``neq`` when none does, ``contains`` when any
  value contains it, ``not_contains`` when none does.

Default status rule: when a status code is given and there is no ``statusCode`` assertion, the status
must be 2xx (as upstream openstatus does). So an unfollowed redirect or a 404 fails unless the monitor
asserts on the status code explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from openstatus_common.messages.checks import AssertionSpec
from openstatus_common.vocab.assertions import COMPARATORS_BY_KIND, AssertionKind, Comparator

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_EXCERPT = 80

_NUMBER_OPS: dict[Comparator, Callable[[float, float], bool]] = {
    Comparator.EQ: lambda a, b: a == b,
    Comparator.NEQ: lambda a, b: a != b,
    Comparator.GT: lambda a, b: a > b,
    Comparator.GTE: lambda a, b: a >= b,
    Comparator.LT: lambda a, b: a < b,
    Comparator.LTE: lambda a, b: a <= b,
}

_STRING_OPS: dict[Comparator, Callable[[str, str], bool]] = {
    Comparator.CONTAINS: lambda a, b: b in a,
    Comparator.NOT_CONTAINS: lambda a, b: b not in a,
    Comparator.EQ: lambda a, b: a == b,
    Comparator.NEQ: lambda a, b: a != b,
    Comparator.EMPTY: lambda a, _b: a == "",
    Comparator.NOT_EMPTY: lambda a, _b: a != "",
    Comparator.GT: lambda a, b: a > b,
    Comparator.GTE: lambda a, b: a >= b,
    Comparator.LT: lambda a, b: a < b,
    Comparator.LTE: lambda a, b: a <= b,
}
# Failures of these comparators read well without repeating the (possibly long) body.
_CONTAINMENT = frozenset(
    {Comparator.CONTAINS, Comparator.NOT_CONTAINS, Comparator.EMPTY, Comparator.NOT_EMPTY}
)


def evaluate(
    assertions: Sequence[AssertionSpec],
    *,
    status_code: int | None = None,
    body: str | None = None,
    headers: Mapping[str, str] = _NO_HEADERS,
    dns_records: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """Evaluate every assertion against one response; return the failure messages (empty = all held).

    ``headers`` is looked up case-insensitively. ``dns_records`` maps a record type (``"MX"``) to its
    values. When ``status_code`` is given and no assertion is of kind ``statusCode``, a non-2xx status is
    a failure (``status code 500 is not 2xx``).
    """
    failures: list[str] = []
    has_status_assertion = any(AssertionKind(a.kind) is AssertionKind.STATUS_CODE for a in assertions)
    if status_code is not None and not has_status_assertion and not default_status_ok(status_code):
        failures.append(f"status code {status_code} is not 2xx")
    lowered: dict[str, str] | None = None
    for assertion in assertions:
        kind = AssertionKind(assertion.kind)
        if assertion.comparator not in COMPARATORS_BY_KIND[kind].numbers:
            failures.append(
                f"comparator {assertion.comparator.value} does not apply to {kind.value} assertions"
            )
            continue
        message: str | None
        if kind is AssertionKind.STATUS_CODE:
            message = _status(assertion, status_code)
        elif kind is AssertionKind.BODY:
            message = _body(assertion, body)
        elif kind is AssertionKind.HEADER:
            if lowered is None:
                lowered = {name.lower(): value for name, value in headers.items()}
            message = _header(assertion, lowered)
        else:
            message = _record(assertion, dns_records)
        if message is not None:
            failures.append(message)
    return failures


def default_status_ok(status_code: int) -> bool:
    """The status rule used when a monitor has no statusCode assertion: 2xx only."""
    return 200 <= status_code <= 299


def _status(assertion: AssertionSpec, status_code: int | None) -> str | None:
    if status_code is None:
        return "no status code to assert on (statusCode assertions apply to HTTP monitors)"
    try:
        expected = float(assertion.target.strip())
    except ValueError:
        return f"status code assertion target {_quote(assertion.target)} is not a number"
    if _NUMBER_OPS[assertion.comparator](float(status_code), expected):
        return None
    shown = assertion.target.strip()
    return f"status code {status_code} is not {assertion.comparator.value} {shown}"


def _body(assertion: AssertionSpec, body: str | None) -> str | None:
    if body is None:
        return "no response body to assert on (textBody assertions apply to HTTP monitors)"
    if _STRING_OPS[assertion.comparator](body, assertion.target):
        return None
    return _string_failure("body", body, assertion, show_value=assertion.comparator not in _CONTAINMENT)


def _header(assertion: AssertionSpec, headers: Mapping[str, str]) -> str | None:
    name = (assertion.key or "").strip().lower()
    if not name:
        return "header assertion needs a header name (key)"
    value = headers.get(name)
    comparator = assertion.comparator
    if value is None:
        if comparator in (Comparator.EMPTY, Comparator.NEQ, Comparator.NOT_CONTAINS):
            return None
        if comparator is Comparator.NOT_EMPTY:
            return f"header {name} is missing"
        return f"header {name} is missing (expected {comparator.value} {_quote(assertion.target)})"
    if _STRING_OPS[comparator](value, assertion.target):
        return None
    return _string_failure(f"header {name}:", value, assertion, show_value=True)


def _string_failure(label: str, value: str, assertion: AssertionSpec, *, show_value: bool) -> str:
    subject = f"{label} {_quote(value)}" if show_value else label
    target = _quote(assertion.target)
    comparator = assertion.comparator
    if comparator is Comparator.CONTAINS:
        return f"{subject} does not contain {target}"
    if comparator is Comparator.NOT_CONTAINS:
        return f"{subject} contains {target}"
    if comparator is Comparator.EMPTY:
        return f"{subject} is not empty"
    if comparator is Comparator.NOT_EMPTY:
        return f"{subject} is empty"
    return f"{subject} is not {comparator.value} {target}"


def _record(assertion: AssertionSpec, dns_records: Mapping[str, list[str]] | None) -> str | None:
    record_type = (assertion.key or "").strip().upper()
    if not record_type:
        return "record assertion needs a record type (key)"
    if dns_records is None:
        return "no DNS records to assert on (record assertions apply to DNS monitors)"
    values = dns_records.get(record_type, [])
    target = assertion.target
    comparator = assertion.comparator
    shown = _quote_list(values)
    if comparator is Comparator.EQ:
        if any(value == target for value in values):
            return None
        return f"{record_type} records {shown} do not include {_quote(target)}"
    if comparator is Comparator.NEQ:
        if all(value != target for value in values):
            return None
        return f"{record_type} records {shown} include {_quote(target)}"
    if comparator is Comparator.CONTAINS:
        if any(target in value for value in values):
            return None
        return f"no {record_type} record in {shown} contains {_quote(target)}"
    # NOT_CONTAINS (the only comparator left for records)
    offending = [value for value in values if target in value]
    if not offending:
        return None
    return f"{record_type} record {_quote(offending[0])} contains {_quote(target)}"


def _quote(value: str) -> str:
    """JSON-style quoting (so quotes and control characters stay readable), long values shortened."""
    if len(value) > _EXCERPT:
        value = value[:_EXCERPT] + "..."
    return json.dumps(value, ensure_ascii=False)


def _quote_list(values: Sequence[str]) -> str:
    if len(values) > 10:
        return "[" + ", ".join(_quote(v) for v in values[:10]) + f", ... ({len(values)} in all)]"
    return "[" + ", ".join(_quote(v) for v in values) + "]"
