"""The real notifier process killed mid-delivery: after a restart no alert is lost and none is sent twice.

Four webhook-like channels get an alert. Two answer at once (marked sent before the kill); one hangs before
processing the request, one hangs after processing it (the receiver saw it, the notifier never heard back).
The notifier is SIGKILLed while both hang, a recovery is published while it is down, and a new process
finishes the work. What each receiver's user sees: both alerts, once. The only re-send is the one the
notifier could not know had arrived, and it carries the same Idempotency-Key, so the receiver drops it.
"""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.base import utcnow
from openstatus_common.local.natsd import free_port
from openstatus_common.testing.processes import ServiceProcess, http_status, wait_for
from openstatus_common.testing.receivers import HttpReceiver

from .conftest import alert_event, deliveries, make_channel, make_monitor, publish


def _status(body: dict[str, Any]) -> str:
    """The webhook payload's status, or what a Slack message says."""
    if "status" in body:
        return str(body["status"])
    return "recovered" if "has recovered" in body["text"] else "error"


@pytest.mark.timeout(90)
async def test_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    db_url: str,
    nats_url: str,
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    workspace, monitor = await make_monitor(sessions)
    secret_header = {"key": "Authorization", "value": "Bearer never-in-logs-0001"}
    channels = {
        path: await make_channel(
            sessions,
            workspace,
            "webhook",
            {"endpoint": f"{receiver.url}{path}", "headers": [secret_header]},
            [monitor],
        )
        for path in ("/a", "/hang-before", "/hang-after")
    }
    slack = "/services/T000/B000/never-in-logs-0002"
    channels[slack] = await make_channel(
        sessions, workspace, "slack", {"webhookUrl": f"{receiver.url}{slack}"}, [monitor]
    )
    receiver.hang("/hang-before")
    receiver.hang("/hang-after", after_processing=True)
    port = free_port()
    env = {
        "OPENSTATUS_NATS_URL": nats_url,
        "OPENSTATUS_DATABASE_URL": db_url,
        "OPENSTATUS_NOTIFIER_PORT": str(port),
        "OPENSTATUS_NOTIFY_TIMEOUT": "2",
        "OPENSTATUS_NOTIFY_BACKOFF_BASE": "0.2",
        "OPENSTATUS_SHUTDOWN_TIMEOUT": "3",
        "OPENSTATUS_LOG_FORMAT": "json",
    }
    now = utcnow()
    down = alert_event(workspace, monitor, "error", at=now, errorMessage="Connection refused")
    up = alert_event(
        workspace, monitor, "recovered", at=now + timedelta(seconds=1), statusCode=200, latency=42
    )

    first = ServiceProcess("notifier", env, tmp_path / "first.log")
    second: ServiceProcess | None = None
    try:
        await publish(bus, down)

        async def mid_delivery() -> bool:
            rows = {row.channel_id: row.status for row in await deliveries(sessions)}
            quick_ones_sent = all(rows.get(channels[p]) == "sent" for p in ("/a", slack))
            return quick_ones_sent and bool(receiver.at("/hang-before")) and bool(receiver.at("/hang-after"))

        await wait_for(mid_delivery, timeout=30)
        first.signal(signal.SIGKILL)
        assert await first.wait(10) == -signal.SIGKILL
        receiver.release()

        await publish(bus, up)  # while no notifier runs
        second = ServiceProcess("notifier", env, tmp_path / "second.log")

        async def all_sent() -> bool:
            rows = await deliveries(sessions)
            return len(rows) == 8 and all(row.status == "sent" for row in rows)

        await wait_for(all_sent, timeout=40)

        for path in channels:
            seen = receiver.delivered(path)
            assert [_status(item.json()) for item in seen] == ["error", "recovered"], path
        # Marked sent before the kill: never sent again.
        assert len(receiver.at("/a")) == 2
        assert len(receiver.at(slack)) == 2
        # Hung before processing: the receiver got nothing usable; the re-send is the first real delivery.
        assert [item.processed for item in receiver.at("/hang-before")] == [False, True, True]
        # Hung after processing: the one duplicate at-least-once allows, with the same key both times.
        first_try, retry, recovery = receiver.at("/hang-after")
        assert first_try.key == retry.key == f"{down.event_id}:{channels['/hang-after']}"
        assert recovery.key == f"{up.event_id}:{channels['/hang-after']}"

        attempts = {
            row.channel_id: row.attempts
            for row in await deliveries(sessions)
            if row.event_id == down.event_id
        }
        assert attempts == {
            channels["/a"]: 1,
            channels[slack]: 1,
            channels["/hang-before"]: 2,
            channels["/hang-after"]: 2,
        }

        assert await http_status(f"http://127.0.0.1:{port}/readyz") == 200
        second.signal(signal.SIGTERM)
        assert await second.wait(15) == 0, second.output()[-3000:]
        logs = first.output() + second.output()
        assert "dispatcher.sent" in logs and "dispatcher.resuming_lapsed_claim" in logs
        assert "never-in-logs" not in logs
    finally:
        first.stop()
        if second is not None:
            second.stop()
