"""A status page end to end: the API builds it, the probes' results open an incident, the page shows it
within seconds (through the bus, not by waiting out its cache), a report appears the same way, and confirmed
subscribers get the report by mail through the notifier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.receivers import SmtpReceiver

from .conftest import REGIONS, Stack

FRESHNESS_S = 5.0


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def stack_env(smtp: SmtpReceiver) -> dict[str, str]:
    return {
        "OPENSTATUS_SMTP_HOST": "127.0.0.1",
        "OPENSTATUS_SMTP_PORT": str(smtp.port),
        "OPENSTATUS_SMTP_STARTTLS": "false",
        # Only events may refresh the page within this test.
        "OPENSTATUS_STATUS_PAGE_CACHE_SECONDS": "600",
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_page_follows_incidents_and_reports_and_mails_subscribers(
    stack: Stack, http_target: Any, smtp: SmtpReceiver
) -> None:
    switch = f"page-{uuid.uuid4().hex[:8]}"
    headers = stack.headers()
    async with httpx.AsyncClient(timeout=10) as client:
        monitor = (
            await client.post(
                f"{stack.api}/v1/monitor/http",
                json={
                    "name": "checkout",
                    "url": f"{http_target.url}/switch/{switch}",
                    "periodicity": "30s",
                    "regions": REGIONS,
                    "active": True,
                },
                headers=headers,
            )
        ).json()
        page = await client.post(
            f"{stack.api}/v1/page", json={"title": "Shop", "slug": "shop"}, headers=headers
        )
        assert page.status_code == 201, page.text
        page_id = page.json()["id"]
        component = await client.post(
            f"{stack.api}/v1/page/{page_id}/component",
            json={"type": "monitor", "monitorId": monitor["id"], "name": "Checkout"},
            headers=headers,
        )
        assert component.status_code == 201, component.text
        subscriber = await client.post(
            f"{stack.api}/v1/page/{page_id}/subscriber",
            json={"email": "fan@example.com", "skipConfirmation": True},
            headers=headers,
        )
        assert subscriber.status_code == 201, subscriber.text

        async def widget() -> str:
            return str((await client.get(f"{stack.pages}/public/status/shop")).json()["status"])

        async def operational() -> bool:
            return await widget() == "operational"

        await wait_for(operational, timeout=20, interval=0.2)
        assert "Checkout" in (await client.get(f"{stack.pages}/shop")).text

        http_target.set_switch(switch, 500)

        async def incident_open() -> bool:
            listed = await client.get(f"{stack.api}/v1/incident?monitorId={monitor['id']}", headers=headers)
            return any(item["status"] == "open" for item in listed.json()["items"])

        try:
            await wait_for(incident_open, timeout=60, interval=0.1)
        except AssertionError:
            raise AssertionError(stack.logs()) from None

        async def outage() -> bool:
            return await widget() == "major_outage"

        await wait_for(outage, timeout=FRESHNESS_S, interval=0.1)
        assert 'class="pill s-error"' in (await client.get(f"{stack.pages}/shop")).text

        report = await client.post(
            f"{stack.api}/v1/status-report",
            json={
                "title": "Checkout errors",
                "status": "identified",
                "message": "A bad deploy; rolling back.",
                "pageId": page_id,
                "pageComponentIds": [component.json()["id"]],
                "notify": True,
            },
            headers=headers,
        )
        assert report.status_code == 201, report.text

        async def report_shown() -> bool:
            return "Checkout errors" in (await client.get(f"{stack.pages}/shop")).text

        await wait_for(report_shown, timeout=FRESHNESS_S, interval=0.1)

        async def mailed() -> bool:
            return len(smtp.messages) >= 1

        try:
            await wait_for(mailed, timeout=30, interval=0.2)
        except AssertionError:
            raise AssertionError(stack.logs()) from None
        [(recipients, message)] = smtp.messages
        assert recipients == ["fan@example.com"]
        assert "Checkout errors" in message["Subject"]
        assert message["List-Unsubscribe"].startswith(f"<{stack.pages}/shop/unsubscribe/")
