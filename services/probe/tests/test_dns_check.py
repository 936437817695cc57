"""DNS checks against a real local nameserver (dnslib) serving ``targets.ZONE``."""

from __future__ import annotations

import pytest

from openstatus_common.messages.checks import AssertionSpec, CheckTarget
from openstatus_common.testing.targets import DnsTarget, free_udp_tcp_port
from openstatus_common.vocab import CheckOutcome, Comparator
from probe.checks import TargetPolicy, execute
from probe.checks.dns import check_dns, query_name

from .conftest import MakeJob

C = Comparator
POLICY = TargetPolicy()


async def test_every_record_type_is_resolved(dns_target: DnsTarget) -> None:
    attempt = await check_dns(CheckTarget(kind="dns", url="example.test"), [dns_target.nameserver])
    assert attempt.error is None
    assert attempt.dns_records == {
        "A": ["192.0.2.10", "192.0.2.11"],
        "AAAA": ["2001:db8::10"],
        "CNAME": [],  # the apex has no CNAME: an empty answer, not an error
        "MX": ["10 mail.example.test", "20 backup.example.test"],
        "NS": ["ns1.example.test", "ns2.example.test"],
        "TXT": ["v=spf1 -all", "hello world"],  # a TXT record's strings are joined
    }
    assert attempt.timing.dns_ms is not None and attempt.timing.dns_ms == attempt.latency_ms


async def test_an_alias_has_its_cname_and_the_canonical_records(dns_target: DnsTarget) -> None:
    attempt = await check_dns(CheckTarget(kind="dns", url="www.example.test"), [dns_target.nameserver])
    assert attempt.dns_records is not None
    assert attempt.dns_records["CNAME"] == ["example.test"]
    assert attempt.dns_records["A"] == ["192.0.2.10", "192.0.2.11"]  # only A values, not the CNAME


async def test_nxdomain_is_an_error(make_job: MakeJob, dns_target: DnsTarget) -> None:
    result = await execute(
        make_job(kind="dns", url="missing.example.test", retry=0),
        policy=POLICY,
        nameservers=[dns_target.nameserver],
    )
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "NXDOMAIN: missing.example.test"
    assert result.dns_records == {}


async def test_every_check_asks_the_nameserver(dns_target: DnsTarget) -> None:
    target = CheckTarget(kind="dns", url="mail.example.test")
    before = dns_target.queries.count(("mail.example.test", "A"))
    for _ in range(2):
        attempt = await check_dns(target, [dns_target.nameserver])
        assert attempt.dns_records is not None and attempt.dns_records["A"] == ["192.0.2.25"]
    assert dns_target.queries.count(("mail.example.test", "A")) == before + 2  # no resolver cache


@pytest.mark.parametrize(
    ("assertion", "failure"),
    [
        (AssertionSpec(kind="record", key="A", comparator=C.EQ, target="192.0.2.11"), None),
        (
            AssertionSpec(kind="record", key="A", comparator=C.EQ, target="192.0.2.99"),
            'A records ["192.0.2.10", "192.0.2.11"] do not include "192.0.2.99"',
        ),
        (AssertionSpec(kind="record", key="AAAA", comparator=C.NEQ, target="2001:db8::99"), None),
        (
            AssertionSpec(kind="record", key="AAAA", comparator=C.NEQ, target="2001:db8::10"),
            'AAAA records ["2001:db8::10"] include "2001:db8::10"',
        ),
        (AssertionSpec(kind="record", key="MX", comparator=C.CONTAINS, target="mail.example.test"), None),
        (
            AssertionSpec(kind="record", key="NS", comparator=C.CONTAINS, target="cloudflare"),
            'no NS record in ["ns1.example.test", "ns2.example.test"] contains "cloudflare"',
        ),
        (AssertionSpec(kind="record", key="TXT", comparator=C.NOT_CONTAINS, target="~all"), None),
        (
            AssertionSpec(kind="record", key="TXT", comparator=C.NOT_CONTAINS, target="-all"),
            'TXT record "v=spf1 -all" contains "-all"',
        ),
        (
            AssertionSpec(kind="record", key="CNAME", comparator=C.EQ, target="example.test"),
            'CNAME records [] do not include "example.test"',
        ),
    ],
)
async def test_record_assertions_end_to_end(
    make_job: MakeJob, dns_target: DnsTarget, assertion: AssertionSpec, failure: str | None
) -> None:
    result = await execute(
        make_job(kind="dns", url="example.test", retry=0, assertions=(assertion,)),
        policy=POLICY,
        nameservers=[dns_target.nameserver],
    )
    assert result.dns_records["A"] == ["192.0.2.10", "192.0.2.11"]
    if failure is None:
        assert result.outcome is CheckOutcome.SUCCESS, result.error
    else:
        assert result.outcome is CheckOutcome.ERROR
        assert result.error == f"assertion failed: {failure}"


async def test_cname_assertion_on_an_alias(make_job: MakeJob, dns_target: DnsTarget) -> None:
    assertion = AssertionSpec(kind="record", key="CNAME", comparator=C.EQ, target="example.test")
    result = await execute(
        make_job(kind="dns", url="www.example.test", retry=0, assertions=(assertion,)),
        policy=POLICY,
        nameservers=[dns_target.nameserver],
    )
    assert result.outcome is CheckOutcome.SUCCESS, result.error


async def test_degraded_threshold_applies_to_dns(make_job: MakeJob, dns_target: DnsTarget) -> None:
    result = await execute(
        make_job(kind="dns", url="example.test", retry=0, degraded_at_ms=0),
        policy=POLICY,
        nameservers=[dns_target.nameserver],
    )
    assert result.outcome is CheckOutcome.DEGRADED


async def test_a_nameserver_that_does_not_answer_is_an_error(make_job: MakeJob) -> None:
    silent = f"127.0.0.1:{free_udp_tcp_port()}"
    result = await execute(
        make_job(kind="dns", url="example.test", retry=0, timeout_ms=2000),
        policy=POLICY,
        nameservers=[silent],
    )
    assert result.outcome is CheckOutcome.ERROR
    assert result.error is not None
    assert result.error == "timeout after 2000 ms" or result.error.startswith("DNS query ")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("https://api.example.com/health", "api.example.com"),
        (" mail.example.org ", "mail.example.org"),
    ],
)
def test_query_name(url: str, name: str) -> None:
    assert query_name(url) == name


async def test_an_empty_name_is_an_error() -> None:
    attempt = await check_dns(CheckTarget(kind="dns", url="https://"), ["127.0.0.1:53"])
    assert attempt.error is not None and attempt.error.startswith("invalid DNS target")
