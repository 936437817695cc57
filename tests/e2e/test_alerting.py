"""An outage end to end: the target goes down, one incident opens, the webhook gets exactly one alert with
the documented payload; it comes back, the incident resolves, the webhook gets one recovery."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.receivers import HttpReceiver

from .conftest import REGIONS, Stack


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_outage_alerts_once_and_recovery_resolves(stack: Stack, http_target: Any) -> None:
    receiver = HttpReceiver().start()
    switch = f"svc-{uuid.uuid4().hex[:8]}"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            created = await client.post(
                f"{stack.api}/v1/monitor/http",
                json={
                    "name": "checkout",
                    "url": f"{http_target.url}/switch/{switch}",
                    "periodicity": "30s",
                    "regions": REGIONS,
                    "active": True,
                },
                headers=stack.headers(),
            )
            assert created.status_code == 201, created.text
            monitor = created.json()
            channel = await client.post(
                f"{stack.api}/v1/notification",
                json={
                    "name": "ops webhook",
                    "provider": "webhook",
                    "data": {
                        "endpoint": f"{receiver.url}/hook",
                        "headers": [{"key": "X-Token", "value": "t0k"}],
                    },
                    "monitorIds": [monitor["id"]],
                },
                headers=stack.headers(),
            )
            assert channel.status_code == 201, channel.text

            async def all_regions_up() -> bool:
                status = await client.get(
                    f"{stack.api}/v1/monitor/{monitor['id']}/status", headers=stack.headers()
                )
                return [r["status"] for r in status.json()["regions"]] == ["active"] * 3

            await wait_for(all_regions_up, timeout=20, interval=0.2)

            http_target.set_switch(switch, 500)

            async def alerted() -> bool:
                return len(receiver.delivered("/hook")) >= 1

            try:
                await wait_for(alerted, timeout=45, interval=0.2)
            except AssertionError:
                raise AssertionError(stack.logs()) from None
            [alert] = receiver.delivered("/hook")
            payload = alert.json()
            assert set(payload) == {"monitor", "cronTimestamp", "status", "errorMessage"}
            assert payload["monitor"] == {"id": int(monitor["id"]), "name": "checkout", "url": monitor["url"]}
            assert payload["status"] == "error"
            assert isinstance(payload["cronTimestamp"], int)
            assert "500" in payload["errorMessage"]
            assert alert.headers["x-token"] == "t0k"
            incidents = (
                await client.get(
                    f"{stack.api}/v1/incident?monitorId={monitor['id']}", headers=stack.headers()
                )
            ).json()
            assert [i["status"] for i in incidents["items"]] == ["open"]

            http_target.set_switch(switch, 200)

            async def recovered() -> bool:
                return len(receiver.delivered("/hook")) >= 2

            await wait_for(recovered, timeout=45, interval=0.2)
            recovery = receiver.delivered("/hook")[1].json()
            assert recovery["status"] == "recovered"
            assert recovery["statusCode"] == 200
            assert isinstance(recovery["latency"], int)
            assert set(recovery) == {"monitor", "cronTimestamp", "status", "statusCode", "latency"}
            incident = (
                await client.get(
                    f"{stack.api}/v1/incident?monitorId={monitor['id']}", headers=stack.headers()
                )
            ).json()["items"][0]
            assert incident["status"] == "resolved"
            assert len(receiver.delivered("/hook")) == 2  # one alert, one recovery: nothing twice
    finally:
        receiver.stop()
