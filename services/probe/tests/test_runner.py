"""The runner: outcome rules, retries and their limits, and the result it builds from a job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from openstatus_common.messages.checks import AssertionSpec, CheckTarget, Timing
from openstatus_common.settings import Settings
from openstatus_common.testing.targets import HttpTarget
from openstatus_common.vocab import CheckOutcome, Comparator, Region
from probe.checks import Attempt, Checkers, TargetPolicy, execute
from probe.checks.runner import backoff

from .conftest import MakeJob, job_for


class ScriptedCheckers(Checkers):
    """Checkers whose attempts are scripted, to test the runner's rules without a network."""

    def __init__(self, *attempts: Attempt) -> None:
        super().__init__(TargetPolicy())
        self._script: Iterator[Attempt] = iter(attempts)
        self.runs = 0

    async def run(self, target: CheckTarget) -> Attempt:
        self.runs += 1
        return next(self._script)


def ok(latency_ms: float = 10.0, status: int = 200, body: str = "ok") -> Attempt:
    return Attempt(latency_ms=latency_ms, timing=Timing(connect_ms=1.0), status_code=status, body=body)


def failed(error: str = "connection refused", latency_ms: float = 1.0) -> Attempt:
    return Attempt(latency_ms=latency_ms, error=error)


async def test_an_error_then_success_is_success_after_two_attempts() -> None:
    checkers = ScriptedCheckers(failed(), ok(latency_ms=12.5))
    result = await execute(
        job_for(kind="http", url="http://x.test/", retry=3), policy=checkers.policy, checkers=checkers
    )
    assert result.outcome is CheckOutcome.SUCCESS
    assert result.attempts == 2 and checkers.runs == 2
    assert result.latency_ms == 12.5 and result.error is None  # the final attempt's


async def test_retries_stop_after_target_retry_more_attempts() -> None:
    checkers = ScriptedCheckers(*(failed(f"refused {n}") for n in range(5)))
    result = await execute(
        job_for(kind="tcp", url="x.test:1", retry=2), policy=checkers.policy, checkers=checkers
    )
    assert result.outcome is CheckOutcome.ERROR
    assert result.attempts == 3 and result.error == "refused 2"


async def test_no_retry_would_start_after_the_job_expires() -> None:
    clock_now = datetime(2030, 1, 1, tzinfo=UTC)

    def clock() -> datetime:
        return clock_now

    job = job_for(kind="tcp", url="x.test:1", retry=5).model_copy(
        update={"expires_at": clock_now + timedelta(milliseconds=250)}
    )
    checkers = ScriptedCheckers(*(failed() for _ in range(6)))
    result = await execute(job, policy=checkers.policy, checkers=checkers, clock=clock)
    # The clock stands still at T and the job expires at T+250ms. A retry starts only if now + pause is
    # before expiry: after attempt 1, T+100ms (yes); after 2, T+200ms (yes); after 3, T+400ms (no).
    assert result.attempts == 3
    assert result.started_at == result.finished_at == clock_now


async def test_an_expired_job_is_attempted_once() -> None:
    checkers = ScriptedCheckers(failed(), ok())
    job = job_for(kind="tcp", url="x.test:1", retry=3, expires_in=-1)
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.attempts == 1 and result.outcome is CheckOutcome.ERROR


def test_backoff_doubles_then_stays() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 9)] == [
        timedelta(milliseconds=ms) for ms in (100, 200, 400, 400, 400)
    ]


@pytest.mark.parametrize(
    ("latency", "degraded_at", "outcome"),
    [
        (150.0, 100, CheckOutcome.DEGRADED),
        (100.0, 100, CheckOutcome.SUCCESS),  # "more than" the threshold
        (50.0, 100, CheckOutcome.SUCCESS),
        (5000.0, None, CheckOutcome.SUCCESS),
    ],
)
async def test_degraded_is_total_latency_over_the_threshold(
    latency: float, degraded_at: int | None, outcome: CheckOutcome
) -> None:
    checkers = ScriptedCheckers(ok(latency_ms=latency))
    job = job_for(kind="http", url="http://x.test/", retry=0, degraded_at_ms=degraded_at)
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.outcome is outcome


async def test_a_failed_assertion_is_an_error_even_when_slow() -> None:
    checkers = ScriptedCheckers(ok(latency_ms=900, body="maintenance"))
    assertion = AssertionSpec(kind="textBody", comparator=Comparator.CONTAINS, target="ok")
    job = job_for(kind="http", url="http://x.test/", retry=0, degraded_at_ms=100, assertions=(assertion,))
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == 'assertion failed: body does not contain "ok"'


async def test_several_failed_assertions_are_listed() -> None:
    checkers = ScriptedCheckers(ok(status=503, body="down"))
    assertions = (
        AssertionSpec(kind="statusCode", comparator=Comparator.EQ, target="200"),
        AssertionSpec(kind="textBody", comparator=Comparator.EQ, target="up"),
    )
    job = job_for(kind="http", url="http://x.test/", retry=0, assertions=assertions)
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.error == 'assertions failed: status code 503 is not eq 200; body "down" is not eq "up"'


async def test_a_status_code_outside_the_http_range_is_an_error_not_an_exception() -> None:
    checkers = ScriptedCheckers(ok(status=999))
    assertion = AssertionSpec(kind="statusCode", comparator=Comparator.GT, target="0")
    job = job_for(kind="http", url="http://x.test/", retry=0, assertions=(assertion,))
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.outcome is CheckOutcome.ERROR
    assert result.status_code is None and result.error == "invalid status code 999"


async def test_the_result_describes_the_job(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    job = make_job(kind="http", url=f"{http_target.url}/status/200", retry=0)
    before = datetime.now(UTC)
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    after = datetime.now(UTC)
    assert result.result_id == job.job_id == result.job_id
    assert (result.monitor_id, result.workspace_id, result.region) == (7, 3, Region.FLY_AMS)
    assert result.scheduled_at == job.scheduled_at and result.trigger == "cron"
    assert before <= result.started_at <= result.finished_at <= after
    assert result.latency_ms > 0
    # Deterministic id: running the same job again (a redelivery) yields the same result id.
    again = await execute(job, policy=checkers.policy, checkers=checkers)
    assert again.result_id == result.result_id


async def test_an_on_demand_job_keeps_its_trigger(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    job = make_job(kind="http", url=f"{http_target.url}/status/200", retry=0).model_copy(
        update={"trigger": "api"}
    )
    result = await execute(job, policy=checkers.policy, checkers=checkers)
    assert result.trigger == "api"


def test_nameservers_from_settings() -> None:
    settings = Settings(dns_nameservers=" 127.0.0.1:5353, [::1]:53 ,9.9.9.9")
    assert settings.dns_nameservers == "127.0.0.1:5353,[::1]:53,9.9.9.9"
    assert settings.nameservers == ("127.0.0.1:5353", "[::1]:53", "9.9.9.9")
    assert Settings().nameservers == ()
    checkers = Checkers.from_settings(settings)
    assert checkers.nameservers == ("127.0.0.1:5353", "[::1]:53", "9.9.9.9")
    assert checkers.policy == TargetPolicy(allow_private=True, allow_metadata=False)


@pytest.mark.parametrize("value", ["dns.google", "127.0.0.1:99999", "[::1]:x", "[::1]53", "1.2.3.4:", "::1:"])
def test_malformed_nameservers_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError, match="dns_nameservers"):
        Settings(dns_nameservers=value)
