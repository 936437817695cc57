"""Run one check job to a result: attempts with retries, assertions, and the outcome.

Outcome rules:

- ``error`` when the target could not be checked (refused, unreachable, timeout, TLS failure, ...) or an
  assertion failed; ``error`` says which (``timeout after 2000 ms``, ``assertion failed: ...``).
- ``degraded`` when it worked but the total latency exceeded ``degraded_at_ms``.
- ``success`` otherwise.

An attempt that ends in ``error`` is retried up to ``target.retry`` more times, after 100, 200, 400, 400 ...
ms, but a retry that could not start before the job's ``expires_at`` is not made (the next job for the
monitor is due by then). The result is the last attempt's, with ``attempts`` counting them all.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType

from openstatus_common.messages.checks import CheckJob, CheckResult, CheckTarget
from openstatus_common.rules import evaluate
from openstatus_common.settings import Settings
from openstatus_common.vocab import CheckOutcome
from probe.checks.attempt import Attempt
from probe.checks.dns import check_dns
from probe.checks.guard import TargetPolicy
from probe.checks.http import HttpChecker
from probe.checks.tcp import check_tcp

Clock = Callable[[], datetime]

BACKOFF_MS: tuple[int, ...] = (100, 200, 400)  # the last value repeats
MAX_ERROR_LENGTH = 4000


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff(retry_number: int) -> timedelta:
    """The pause before retry ``retry_number`` (1 = the first retry)."""
    return timedelta(milliseconds=BACKOFF_MS[min(retry_number, len(BACKOFF_MS)) - 1])


class Checkers:
    """The clients checks run on, shared across checks: one HTTP session (fresh connection per check).

    A probe builds one at start-up and passes it to every ``execute``; ``close()`` (or ``async with``) at
    shutdown.
    """

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        nameservers: Sequence[str] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.nameservers = tuple(nameservers)
        self.http = HttpChecker(policy, ssl_context=ssl_context)

    @classmethod
    def from_settings(cls, settings: Settings) -> Checkers:
        return cls(TargetPolicy.from_settings(settings), nameservers=settings.nameservers)

    async def run(self, target: CheckTarget) -> Attempt:
        """One attempt of ``target`` (no retries, no assertions)."""
        if target.kind == "http":
            return await self.http.check(target)
        if target.kind == "tcp":
            return await check_tcp(target, self.policy)
        return await check_dns(target, self.nameservers)

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> Checkers:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()


async def execute(
    job: CheckJob,
    *,
    policy: TargetPolicy,
    nameservers: Sequence[str] = (),
    clock: Clock = utc_now,
    checkers: Checkers | None = None,
) -> CheckResult:
    """Run ``job`` (with retries) and return its result; target problems never raise.

    Pass ``checkers`` (built once from the same policy and nameservers) to share one HTTP session across
    checks; without it a temporary one is made and closed for this job.
    """
    if checkers is None:
        async with Checkers(policy, nameservers=nameservers) as temporary:
            return await _execute(job, temporary, clock)
    return await _execute(job, checkers, clock)


async def _execute(job: CheckJob, checkers: Checkers, clock: Clock) -> CheckResult:
    target = job.target
    started_at = clock()
    attempts = 0
    while True:
        attempts += 1
        attempt = await checkers.run(target)
        error = failure(target, attempt)
        if error is None or attempts > target.retry:
            break
        pause = backoff(attempts)
        if clock() + pause >= job.expires_at:
            break
        await asyncio.sleep(pause.total_seconds())
    finished_at = clock()

    status_code = attempt.status_code
    if status_code is not None and not 100 <= status_code <= 599:
        error = error or f"invalid status code {status_code}"
        status_code = None
    if error is not None:
        outcome = CheckOutcome.ERROR
    elif target.degraded_at_ms is not None and attempt.latency_ms > target.degraded_at_ms:
        outcome = CheckOutcome.DEGRADED
    else:
        outcome = CheckOutcome.SUCCESS
    return CheckResult(
        result_id=job.job_id,  # one result per job: redelivery of the job republishes the same id
        job_id=job.job_id,
        monitor_id=job.monitor_id,
        workspace_id=job.workspace_id,
        region=job.region,
        scheduled_at=job.scheduled_at,
        started_at=started_at,
        finished_at=max(finished_at, started_at),
        trigger=job.trigger,
        outcome=outcome,
        latency_ms=attempt.latency_ms,
        timing=attempt.timing,
        status_code=status_code,
        error=error[:MAX_ERROR_LENGTH] if error else None,
        attempts=attempts,
        response_headers=attempt.response_headers,
        dns_records=attempt.dns_records or {},
        certificate_expires_at=attempt.certificate_expires_at,
    )


def failure(target: CheckTarget, attempt: Attempt) -> str | None:
    """The attempt's error: its transport error, else its failed assertions, else None."""
    if attempt.error is not None:
        return attempt.error
    if target.kind == "http":
        failures = evaluate(
            target.assertions,
            status_code=attempt.status_code,
            body=attempt.body,
            headers=attempt.response_headers,
        )
    elif target.kind == "dns":
        failures = evaluate(target.assertions, dns_records=attempt.dns_records or {})
    else:
        failures = evaluate(target.assertions)
    if not failures:
        return None
    label = "assertion failed" if len(failures) == 1 else "assertions failed"
    return f"{label}: {'; '.join(failures)}"
