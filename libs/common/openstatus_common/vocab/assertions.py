"""Assertion kinds and the comparators valid for each kind.

Short spellings follow Terraform (``eq``, ``neq``, ``gt`` ...); the YAML spelling ``not_eq`` and every
wire name (``NUMBER_COMPARATOR_EQUAL``, ``STRING_COMPARATOR_CONTAINS``, ``RECORD_COMPARATOR_NOT_CONTAINS``)
are accepted too.
"""

from __future__ import annotations

from enum import StrEnum

from openstatus_common.vocab._lookup import Vocabulary


class AssertionKind(StrEnum):
    STATUS_CODE = "statusCode"
    BODY = "textBody"
    HEADER = "header"
    RECORD = "record"


class Comparator(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"


# Proto member names per comparator (the wire name is <PREFIX><NAME>).
_PROTO_NAMES = {
    Comparator.EQ: "EQUAL",
    Comparator.NEQ: "NOT_EQUAL",
    Comparator.GT: "GREATER_THAN",
    Comparator.GTE: "GREATER_THAN_OR_EQUAL",
    Comparator.LT: "LESS_THAN",
    Comparator.LTE: "LESS_THAN_OR_EQUAL",
    Comparator.CONTAINS: "CONTAINS",
    Comparator.NOT_CONTAINS: "NOT_CONTAINS",
    Comparator.EMPTY: "EMPTY",
    Comparator.NOT_EMPTY: "NOT_EMPTY",
}


class DnsRecordType(StrEnum):
    A = "A"
    AAAA = "AAAA"
    CNAME = "CNAME"
    MX = "MX"
    NS = "NS"
    TXT = "TXT"


def _comparator_vocab(prefix: str, numbers: dict[Comparator, int], label: str) -> Vocabulary[Comparator]:
    return Vocabulary(
        Comparator,
        wire_prefix=prefix,
        numbers=numbers,
        proto_names=_PROTO_NAMES,
        aliases={"not_eq": Comparator.NEQ},
        label=label,
    )


NUMBER_COMPARATOR = _comparator_vocab(
    "NUMBER_COMPARATOR_",
    {
        Comparator.EQ: 1,
        Comparator.NEQ: 2,
        Comparator.GT: 3,
        Comparator.GTE: 4,
        Comparator.LT: 5,
        Comparator.LTE: 6,
    },
    "number comparator",
)
STRING_COMPARATOR = _comparator_vocab(
    "STRING_COMPARATOR_",
    {
        Comparator.CONTAINS: 1,
        Comparator.NOT_CONTAINS: 2,
        Comparator.EQ: 3,
        Comparator.NEQ: 4,
        Comparator.EMPTY: 5,
        Comparator.NOT_EMPTY: 6,
        Comparator.GT: 7,
        Comparator.GTE: 8,
        Comparator.LT: 9,
        Comparator.LTE: 10,
    },
    "string comparator",
)
RECORD_COMPARATOR = _comparator_vocab(
    "RECORD_COMPARATOR_",
    {Comparator.EQ: 1, Comparator.NEQ: 2, Comparator.CONTAINS: 3, Comparator.NOT_CONTAINS: 4},
    "record comparator",
)

COMPARATORS_BY_KIND: dict[AssertionKind, Vocabulary[Comparator]] = {
    AssertionKind.STATUS_CODE: NUMBER_COMPARATOR,
    AssertionKind.BODY: STRING_COMPARATOR,
    AssertionKind.HEADER: STRING_COMPARATOR,
    AssertionKind.RECORD: RECORD_COMPARATOR,
}


def parse_comparator(kind: AssertionKind, value: object) -> Comparator:
    """Parse a comparator in any spelling and check that it is valid for ``kind``."""
    vocab = COMPARATORS_BY_KIND[kind]
    comparator = vocab.parse(value)
    if comparator not in vocab.numbers:
        raise ValueError(
            f"comparator {comparator.value!r} is not valid for {kind.value} assertions; "
            f"expected one of: {vocab.choices(vocab.numbers)}"
        )
    return comparator


def wire_name(kind: AssertionKind, comparator: Comparator) -> str:
    return COMPARATORS_BY_KIND[kind].wire(comparator)
