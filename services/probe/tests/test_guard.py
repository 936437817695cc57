"""The target address policy: metadata always refused (unless allowed), private refused when disabled.

No test here connects anywhere but loopback: every non-loopback address below is refused before any
connection is attempted, which the tests check by the error and by the local server's request log.
"""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from openstatus_common.messages.checks import CheckTarget
from openstatus_common.settings import Settings
from openstatus_common.testing.targets import HttpTarget, TcpTarget
from openstatus_common.vocab import CheckOutcome
from probe.checks import Checkers, TargetPolicy, TargetRefused, execute
from probe.checks.http import HttpChecker

from .conftest import MakeJob

OPEN = TargetPolicy(allow_private=True, allow_metadata=False)
CLOSED = TargetPolicy(allow_private=False, allow_metadata=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),  # NAT64 of 169.254.169.254
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("fc00::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("8.8.8.8", None),
        ("172.32.0.1", None),
        ("2606:4700::1111", None),
    ],
)
def test_refusal_by_address(address: str, reason: str | None) -> None:
    assert CLOSED.refusal(address) == reason
    # With private targets allowed, only metadata is refused.
    assert OPEN.refusal(address) == ("cloud metadata" if reason == "cloud metadata" else None)
    # And metadata is allowed only by its own switch.
    assert TargetPolicy(allow_private=True, allow_metadata=True).refusal(address) is None


def test_refused_message_names_address_and_reason() -> None:
    with pytest.raises(
        TargetRefused, match=r"^target address 169\.254\.169\.254 is not allowed \(cloud metadata\)$"
    ):
        OPEN.check_address("169.254.169.254")


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA.google.internal.", "metadata.goog"])
def test_metadata_names_are_refused_before_resolving(host: str) -> None:
    with pytest.raises(TargetRefused, match="cloud metadata"):
        OPEN.check_hostname(host)
    TargetPolicy(allow_metadata=True).check_hostname(host)


def test_policy_from_settings() -> None:
    settings = Settings(allow_private_targets=False, allow_metadata_targets=True)
    assert TargetPolicy.from_settings(settings) == TargetPolicy(allow_private=False, allow_metadata=True)
    assert TargetPolicy.from_settings(Settings()) == TargetPolicy(allow_private=True, allow_metadata=False)


# --- enforced by the HTTP check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "target address 169.254.169.254 is not allowed (cloud metadata)",
        ),
        ("http://[fd00:ec2::254]/", "target address fd00:ec2::254 is not allowed (cloud metadata)"),
        ("http://100.100.100.200/", "target address 100.100.100.200 is not allowed (cloud metadata)"),
        (
            "http://metadata.google.internal/",
            "target host metadata.google.internal is not allowed (cloud metadata)",
        ),
    ],
)
async def test_http_refuses_metadata_even_with_private_targets_allowed(
    make_job: MakeJob, url: str, message: str
) -> None:
    result = await execute(make_job(kind="http", url=url, retry=0), policy=OPEN)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == message
    assert result.timing.connect_ms is None  # nothing was connected to


async def test_http_refuses_loopback_when_private_targets_are_disabled(
    make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await execute(make_job(kind="http", url=f"{http_target.url}/status/200", retry=0), policy=CLOSED)
    assert result.error == "target address 127.0.0.1 is not allowed (loopback)"
    assert http_target.requests == []


async def test_http_refuses_a_name_that_resolves_to_a_private_address(
    make_job: MakeJob, http_target: HttpTarget
) -> None:
    port = http_target.url.rsplit(":", 1)[1]
    result = await execute(make_job(kind="http", url=f"http://localhost:{port}/", retry=0), policy=CLOSED)
    assert result.error is not None
    assert result.error.endswith("is not allowed (loopback)")
    assert http_target.requests == []


class _RebindingResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1, as a rebinding attacker's DNS would on the second lookup."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls += 1
        return [
            ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0)
        ]

    async def close(self) -> None:
        return None


async def test_http_checks_the_address_actually_connected_to(http_target: HttpTarget) -> None:
    port = http_target.url.rsplit(":", 1)[1]
    resolver = _RebindingResolver()
    checker = HttpChecker(CLOSED, resolver=resolver)
    try:
        attempt = await checker.check(
            CheckTarget(kind="http", url=f"http://public.example:{port}/status/200")
        )
    finally:
        await checker.close()
    assert resolver.calls == 1
    assert attempt.error == "target address 127.0.0.1 is not allowed (loopback)"
    assert http_target.requests == []


async def test_every_redirect_hop_is_checked(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    url = f"{http_target.url}/redirect-to?url=http://169.254.169.254/latest/meta-data/"
    result = await execute(make_job(kind="http", url=url, retry=0), policy=checkers.policy, checkers=checkers)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "target address 169.254.169.254 is not allowed (cloud metadata)"
    assert http_target.count("/redirect-to") == 1  # the first hop was served, the second never left


# --- enforced by the TCP check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("169.254.169.254:80", "target address 169.254.169.254 is not allowed (cloud metadata)"),
        ("[fd00:ec2::254]:80", "target address fd00:ec2::254 is not allowed (cloud metadata)"),
        (
            "metadata.google.internal:80",
            "target host metadata.google.internal is not allowed (cloud metadata)",
        ),
    ],
)
async def test_tcp_refuses_metadata(make_job: MakeJob, url: str, message: str) -> None:
    result = await execute(make_job(kind="tcp", url=url, retry=0), policy=OPEN)
    assert result.error == message
    assert result.timing.connect_ms is None


async def test_tcp_refuses_private_when_disabled(make_job: MakeJob, tcp_target: TcpTarget) -> None:
    for url in (tcp_target.address, f"localhost:{tcp_target.port}"):
        result = await execute(make_job(kind="tcp", url=url, retry=0), policy=CLOSED)
        assert result.error is not None and result.error.endswith("is not allowed (loopback)"), result.error
    assert tcp_target.accepted == 0
