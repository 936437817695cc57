"""The core loop with every service as a real process: API -> scheduler -> probes -> recorder -> API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from openstatus_common.testing.processes import http_status, wait_for
from scheduler.slots import phase_ms, slot_after

from .conftest import REGIONS, Stack


async def create_monitor(client: httpx.AsyncClient, stack: Stack, **fields: Any) -> dict[str, Any]:
    body = {"name": "target", "periodicity": "30s", "active": True, "regions": REGIONS, **fields}
    response = await client.post(f"{stack.api}/v1/monitor/http", json=body, headers=stack.headers())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_new_monitor_is_checked_in_every_region_and_recorded(stack: Stack, http_target: Any) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        # Hourly, so the first checks are alone, unless the monitor's regular slot falls within the next
        # minute: then the test waits for that round too and expects both.
        created_ms = int(time.time() * 1000)
        monitor = await create_monitor(client, stack, url=f"{http_target.url}/status/200", periodicity="1h")
        regular = slot_after(created_ms, 3_600_000, phase_ms(int(monitor["id"]), 3_600_000))
        checks = 3
        if regular < created_ms + 60_000:
            checks = 6

            async def past_regular_slot() -> bool:
                return time.time() * 1000 > regular + 2000

            await wait_for(past_regular_slot, timeout=65, interval=0.5)

        async def every_region_reported() -> bool:
            response = await client.get(
                f"{stack.api}/v1/monitor/{monitor['id']}/status", headers=stack.headers()
            )
            regions = {item["region"]: item for item in response.json().get("regions", [])}
            return set(regions) == set(REGIONS) and all(
                item["status"] == "active" for item in regions.values()
            )

        try:
            await wait_for(every_region_reported, timeout=20, interval=0.2)
        except AssertionError:
            raise AssertionError(stack.logs()) from None

        async def every_check_arrived() -> bool:
            return bool(http_target.count("/status/200") >= checks)

        await wait_for(every_check_arrived, timeout=20)
        assert http_target.count("/status/200") == checks

        async def recorded() -> bool:
            response = await client.get(
                f"{stack.api}/v1/monitor/{monitor['id']}/results", headers=stack.headers()
            )
            return bool(response.json()["totalSize"] == checks)

        # The recorder and the incident engine consume results independently: wait for the recorder too.
        await wait_for(recorded, timeout=10, interval=0.2)
        results = (
            await client.get(f"{stack.api}/v1/monitor/{monitor['id']}/results", headers=stack.headers())
        ).json()
        assert {item["region"] for item in results["items"]} == set(REGIONS)
        assert all(item["statusCode"] == 200 for item in results["items"])

        summary = (
            await client.get(
                f"{stack.api}/v1/monitor/{monitor['id']}/summary?range=1d", headers=stack.headers()
            )
        ).json()
        assert summary["totalSuccessful"] == checks
        assert summary["totalFailed"] == 0
        assert summary["p50"] is not None and summary["lastPingAt"]


async def test_run_returns_every_regions_result(stack: Stack, http_target: Any) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        monitor = await create_monitor(
            client,
            stack,
            active=False,
            url=f"{http_target.url}/status/503",
            statusCodeAssertions=[{"comparator": "eq", "target": 200}],
        )
        started = time.monotonic()
        response = await client.post(f"{stack.api}/v1/monitor/{monitor['id']}/run", headers=stack.headers())
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < 10
        results = {item["region"]: item for item in response.json()["results"]}
        assert set(results) == set(REGIONS)
        for item in results.values():
            assert item["outcome"] == "error"
            assert item["statusCode"] == 503
            assert "503" in item["error"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_pausing_stops_the_next_checks(stack: Stack, http_target: Any) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        created_ms = int(time.time() * 1000)
        monitor = await create_monitor(client, stack, url=f"{http_target.url}/status/204")
        phase = phase_ms(int(monitor["id"]), 30_000)

        async def first_checks() -> bool:
            return http_target.count("/status/204") >= 3

        await wait_for(first_checks, timeout=20)
        paused = await client.patch(
            f"{stack.api}/v1/monitor/{monitor['id']}", json={"active": False}, headers=stack.headers()
        )
        assert paused.status_code == 200
        paused_at_ms = int(time.time() * 1000)
        next_slot = slot_after(paused_at_ms + 1000, 30_000, phase)

        async def past_next_slot() -> bool:
            return time.time() * 1000 > next_slot + 2000

        await wait_for(past_next_slot, timeout=35, interval=0.5)
        # The checks on creation, plus one regular round if its slot came before the pause. A slot within
        # a second or two of the creation or of the pause may fall on either side of it.
        regular = slot_after(created_ms, 30_000, phase)
        if regular < created_ms + 2000 or abs(regular - paused_at_ms) < 2000:
            expected = {3, 6}
        else:
            expected = {6} if regular < paused_at_ms else {3}
        assert http_target.count("/status/204") in expected
        assert await http_status(f"{stack.api}/healthz") == 200
