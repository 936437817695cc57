"""Shared helpers for the probe's check tests: job factory and checkers trusting the test CA."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openstatus_common.messages.checks import CheckJob, CheckTarget
from openstatus_common.testing.targets import HttpTarget
from openstatus_common.vocab import Region
from probe.checks import Checkers, TargetPolicy

MakeJob = Callable[..., CheckJob]


def job_for(*, expires_in: float = 60.0, job_id: str = "7:ams:1700000000000", **target: Any) -> CheckJob:
    now = datetime.now(UTC)
    return CheckJob(
        job_id=job_id,
        monitor_id=7,
        workspace_id=3,
        region=Region.FLY_AMS,
        scheduled_at=now,
        expires_at=now + timedelta(seconds=expires_in),
        target=CheckTarget(**target),
    )


@pytest.fixture
def make_job() -> MakeJob:
    """``make_job(kind="http", url=..., retry=0, ...)``: a job due now that expires in a minute."""
    return job_for


@pytest.fixture
async def checkers(http_target: HttpTarget, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Checkers]:
    """Checkers that may reach loopback targets and trust the test CA (through SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(http_target.ca_path))
    async with Checkers(TargetPolicy(allow_private=True)) as shared:
        yield shared
