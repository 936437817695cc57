"""TCP checks against a real local listener and a port nobody listens on."""

from __future__ import annotations

import pytest

from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.targets import TcpTarget
from openstatus_common.vocab import CheckOutcome
from probe.checks import TargetPolicy, execute
from probe.checks.tcp import parse_host_port

from .conftest import MakeJob

POLICY = TargetPolicy(allow_private=True)


async def test_an_accepting_port_is_success_with_connect_timed(
    make_job: MakeJob, tcp_target: TcpTarget
) -> None:
    result = await execute(make_job(kind="tcp", url=tcp_target.address, retry=0), policy=POLICY)
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert result.error is None and result.attempts == 1 and result.status_code is None
    assert result.timing.dns_ms is None  # an IP literal
    assert result.timing.connect_ms is not None and result.timing.connect_ms <= result.latency_ms

    async def accepted() -> bool:
        return tcp_target.accepted == 1

    await wait_for(accepted, timeout=5)


async def test_a_host_name_is_resolved_and_timed(make_job: MakeJob, tcp_target: TcpTarget) -> None:
    result = await execute(make_job(kind="tcp", url=f"localhost:{tcp_target.port}", retry=0), policy=POLICY)
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert result.timing.dns_ms is not None and result.timing.connect_ms is not None


async def test_a_closed_port_is_refused_and_retried(make_job: MakeJob, closed_port: int) -> None:
    result = await execute(make_job(kind="tcp", url=f"127.0.0.1:{closed_port}", retry=1), policy=POLICY)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "connection refused"
    assert result.attempts == 2


async def test_degraded_threshold_applies_to_tcp(make_job: MakeJob, tcp_target: TcpTarget) -> None:
    result = await execute(
        make_job(kind="tcp", url=tcp_target.address, retry=0, degraded_at_ms=0), policy=POLICY
    )
    assert result.outcome is CheckOutcome.DEGRADED  # any latency above 0 ms


@pytest.mark.parametrize("url", ["no-port", "host:", "host:notaport", "host:99999", ""])
async def test_an_invalid_target_is_an_error(make_job: MakeJob, url: str) -> None:
    result = await execute(make_job(kind="tcp", url=url or " ", retry=0), policy=POLICY)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error is not None and result.error.startswith("invalid TCP target")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("example.com:443", ("example.com", 443)),
        ("10.0.0.5:3306", ("10.0.0.5", 3306)),
        ("[::1]:80", ("::1", 80)),
        ("[2001:db8::1]:5432", ("2001:db8::1", 5432)),
        ("tcp://db.internal:5432", ("db.internal", 5432)),
        (" openstat.us:443 ", ("openstat.us", 443)),
    ],
)
def test_parse_host_port(url: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(url) == expected


async def test_ipv6_loopback_target(make_job: MakeJob, closed_port: int) -> None:
    # Whether or not this machine has IPv6 loopback, [::1] parses and the check ends in a clear error.
    result = await execute(make_job(kind="tcp", url=f"[::1]:{closed_port}", retry=0), policy=POLICY)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error in {"connection refused", "cannot assign requested address"} or (
        result.error is not None and result.error.startswith("connection failed")
    )
