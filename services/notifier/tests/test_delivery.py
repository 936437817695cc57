"""From events on the bus to local receivers: every linked channel gets each alert once, retries back off,
a receiver that is down ends as failed in the delivery log while the others get theirs, and order holds."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.senders import Endpoints
from openstatus_common.bus import Bus
from openstatus_common.db.base import utcnow
from openstatus_common.local.natsd import free_port
from openstatus_common.messages import Event, EventKind, MonitorAlert
from openstatus_common.testing.processes import wait_for
from openstatus_common.testing.receivers import HttpReceiver, SmtpReceiver

from .conftest import (
    StartNotifier,
    alert_event,
    deliveries,
    make_channel,
    make_monitor,
    publish,
)

Sessions = async_sessionmaker[AsyncSession]


async def test_every_linked_channel_gets_each_alert_once(
    sessions: Sessions,
    bus: Bus,
    receiver: HttpReceiver,
    smtp: SmtpReceiver,
    start_notifier: StartNotifier,
) -> None:
    workspace, monitor = await make_monitor(sessions)
    _, other_monitor = await make_monitor(sessions, name="Other")
    url = receiver.url
    hook = await make_channel(
        sessions,
        workspace,
        "webhook",
        {"endpoint": f"{url}/hook", "headers": [{"key": "Authorization", "value": "Bearer s3cr3t-token"}]},
        [monitor],
    )
    await make_channel(sessions, workspace, "slack", {"webhookUrl": f"{url}/slack/T0/B0/XYZ"}, [monitor])
    await make_channel(sessions, workspace, "discord", {"webhookUrl": f"{url}/discord/1/abc"}, [monitor])
    await make_channel(
        sessions, workspace, "ntfy", {"topic": "alerts", "serverUrl": url, "token": "tk_abc"}, [monitor]
    )
    await make_channel(sessions, workspace, "email", {"email": "oncall@example.com"}, [monitor])
    await make_channel(sessions, workspace, "webhook", {"endpoint": f"{url}/unlinked"}, [other_monitor])

    await start_notifier(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
    down = alert_event(
        workspace,
        monitor,
        "error",
        errorMessage="Connection refused",
        regions=["ams", "iad"],
        regionErrors={"ams": "Connection refused", "iad": "timeout"},
    )
    up = alert_event(
        workspace, monitor, "recovered", at=utcnow() + timedelta(seconds=1), statusCode=200, latency=1337
    )
    await publish(bus, down)
    await publish(bus, up)
    # The same event again under another message id (JetStream's dedupe cannot catch it): still once each.
    await publish(bus, down, msg_id="replayed")

    async def all_received() -> bool:
        paths = ("/hook", "/slack/T0/B0/XYZ", "/discord/1/abc", "/")
        return all(len(receiver.delivered(p)) == 2 for p in paths) and len(smtp.messages) == 2

    await wait_for(all_received, timeout=20)
    await asyncio.sleep(0.5)  # anything extra would have arrived by now
    assert receiver.at("/unlinked") == []

    # Webhook: exactly the seed's payloads, the configured headers, a stable idempotency key.
    hooks = receiver.at("/hook")
    assert [item.json() for item in hooks] == [_seed(down), _seed(up)]
    assert hooks[0].json() == {
        "monitor": {"id": monitor, "name": "Homepage", "url": "https://example.com"},
        "cronTimestamp": down.data["cronTimestamp"],
        "status": "error",
        "errorMessage": "Connection refused",
    }
    assert hooks[1].json() == {
        "monitor": {"id": monitor, "name": "Homepage", "url": "https://example.com"},
        "cronTimestamp": up.data["cronTimestamp"],
        "status": "recovered",
        "statusCode": 200,
        "latency": 1337,
    }
    assert hooks[0].headers["authorization"] == "Bearer s3cr3t-token"
    assert hooks[0].headers["content-type"] == "application/json"
    assert hooks[0].key == f"{down.event_id}:{hook}"

    slack = receiver.at("/slack/T0/B0/XYZ")[0].json()
    assert "Homepage is down" in slack["text"]
    assert slack["blocks"][0]["text"]["text"] == "Homepage is down"
    facts = " ".join(field["text"] for field in slack["blocks"][1]["fields"])
    assert "ams, iad" in facts and "Connection refused" in facts and "Started" in facts

    discord = receiver.at("/discord/1/abc")
    assert [d.json()["embeds"][0]["title"] for d in discord] == ["Homepage is down", "Homepage has recovered"]
    assert discord[0].json()["allowed_mentions"] == {"parse": []}

    ntfy = receiver.at("/")
    assert [n.json()["topic"] for n in ntfy] == ["alerts", "alerts"]
    assert ntfy[0].json()["title"] == "Homepage is down"
    assert ntfy[0].headers["authorization"] == "Bearer tk_abc"
    assert ntfy[0].headers["x-priority"] == "high"

    recipients, mail = smtp.messages[0]
    assert recipients == ["oncall@example.com"]
    subjects = sorted(str(message["Subject"]) for _, message in smtp.messages)
    assert subjects == ["Homepage has recovered", "Homepage is down"]
    text = next(part for part in mail.walk() if part.get_content_type() == "text/plain").get_payload(
        decode=True
    )
    assert b"Regions: ams, iad" in text

    async def all_recorded_sent() -> bool:
        # The receivers record a message before they answer; the notifier marks it sent after the answer.
        rows = await deliveries(sessions)
        return len(rows) == 10 and {row.status for row in rows} == {"sent"}

    await wait_for(all_recorded_sent)
    rows = await deliveries(sessions)
    assert len(rows) == 10  # 2 events x 5 linked channels; the replay added nothing
    assert {row.attempts for row in rows} == {1}


def _seed(event: Event) -> dict[str, Any]:
    return MonitorAlert.model_validate(event.data).webhook_payload()


async def test_retries_back_off_and_a_down_receiver_ends_failed_without_delaying_others(
    sessions: Sessions, bus: Bus, receiver: HttpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, monitor = await make_monitor(sessions)
    nothing_listens = f"http://127.0.0.1:{free_port()}/x"
    down = await make_channel(sessions, workspace, "webhook", {"endpoint": nothing_listens}, [monitor])
    flaky = await make_channel(
        sessions, workspace, "webhook", {"endpoint": f"{receiver.url}/flaky"}, [monitor]
    )
    healthy = await make_channel(
        sessions, workspace, "slack", {"webhookUrl": f"{receiver.url}/ok"}, [monitor]
    )
    receiver.fail("/flaky", times=2, status=503)

    await start_notifier(notify_max_attempts=4, notify_backoff_base=0.3)
    started = asyncio.get_running_loop().time()
    await publish(bus, alert_event(workspace, monitor, "error", errorMessage="boom"))

    async def healthy_sent() -> bool:
        return len(receiver.delivered("/ok")) == 1

    await wait_for(healthy_sent, timeout=5)
    # Before the first retry of anyone (0.3 s): a failing receiver does not hold the others back.
    assert asyncio.get_running_loop().time() - started < 3

    async def settled() -> bool:
        rows = {row.channel_id: row for row in await deliveries(sessions)}
        return rows[down].status == "failed" and rows[flaky].status == "sent"

    await wait_for(settled, timeout=20)
    rows = {row.channel_id: row for row in await deliveries(sessions)}
    assert rows[healthy].attempts == 1
    assert rows[flaky].attempts == 3 and rows[flaky].last_error is None
    assert rows[down].attempts == 4
    assert rows[down].last_error is not None and "could not reach 127.0.0.1" in rows[down].last_error

    # Exponential: the gaps between the flaky receiver's attempts double (0.3 s, then 0.6 s).
    first, second, third = (item.at for item in receiver.at("/flaky"))
    assert second - first >= 0.25 and third - second >= 0.55
    assert len(receiver.delivered("/flaky")) == 1


async def test_a_receiver_that_refuses_the_message_fails_at_once_with_secrets_scrubbed(
    sessions: Sessions, bus: Bus, receiver: HttpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, monitor = await make_monitor(sessions)
    path = "/services/T000/B000/supersecretpath"
    channel = await make_channel(
        sessions, workspace, "slack", {"webhookUrl": f"{receiver.url}{path}"}, [monitor]
    )
    receiver.fail(path, times=1, status=404)  # its body quotes the path, i.e. the secret
    await start_notifier()
    await publish(bus, alert_event(workspace, monitor))

    async def failed() -> bool:
        rows = await deliveries(sessions, channel)
        return bool(rows) and rows[0].status == "failed"

    await wait_for(failed, timeout=10)
    row = (await deliveries(sessions, channel))[0]
    assert row.attempts == 1  # a 404 will not get better
    assert row.last_error is not None and "HTTP 404" in row.last_error
    assert "supersecretpath" not in row.last_error


async def test_recovery_never_overtakes_the_alert_it_resolves(
    sessions: Sessions, bus: Bus, receiver: HttpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, monitor = await make_monitor(sessions)
    await make_channel(sessions, workspace, "webhook", {"endpoint": f"{receiver.url}/ordered"}, [monitor])
    receiver.fail("/ordered", times=2)  # the "down" alert needs three attempts
    await start_notifier(notify_backoff_base=0.2)
    now = utcnow()
    await publish(bus, alert_event(workspace, monitor, "error", at=now))
    await publish(bus, alert_event(workspace, monitor, "recovered", at=now + timedelta(seconds=30)))

    async def both() -> bool:
        return len(receiver.delivered("/ordered")) == 2

    await wait_for(both, timeout=15)
    assert [item.json()["status"] for item in receiver.at("/ordered")] == [
        "error",
        "error",
        "error",
        "recovered",
    ]


async def test_pagerduty_and_opsgenie_open_and_close_by_a_stable_key(
    sessions: Sessions, bus: Bus, receiver: HttpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, monitor = await make_monitor(sessions)
    await make_channel(
        sessions, workspace, "pagerduty", {"integrationKey": "R0UTINGKEY0123456789abcdef"}, [monitor]
    )
    await make_channel(
        sessions, workspace, "opsgenie", {"apiKey": "0123-4567-89ab-cdef", "region": "eu"}, [monitor]
    )
    endpoints = Endpoints(
        pagerduty=f"{receiver.url}/pd/v2/enqueue",
        opsgenie_us=f"{receiver.url}/us",
        opsgenie_eu=f"{receiver.url}/eu",
    )
    await start_notifier(endpoints=endpoints)
    now = utcnow()
    await publish(bus, alert_event(workspace, monitor, "error", at=now, errorMessage="timeout"))
    await publish(bus, alert_event(workspace, monitor, "recovered", at=now + timedelta(seconds=5)))

    async def done() -> bool:
        return len(receiver.at("/pd/v2/enqueue")) == 2 and len(receiver.requests) == 4

    await wait_for(done, timeout=10)
    trigger, resolve = (item.json() for item in receiver.at("/pd/v2/enqueue"))
    assert trigger["event_action"] == "trigger" and trigger["payload"]["severity"] == "critical"
    assert trigger["routing_key"] == "R0UTINGKEY0123456789abcdef"
    assert resolve == {
        "routing_key": "R0UTINGKEY0123456789abcdef",
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }
    create = receiver.at("/eu/v2/alerts")[0]
    assert create.headers["authorization"] == "GenieKey 0123-4567-89ab-cdef"
    assert create.json()["alias"] == f"openstatus-monitor-{monitor}" and create.json()["priority"] == "P1"
    close = next(item for item in receiver.requests if item.path.endswith("/close?identifierType=alias"))
    assert close.path == f"/eu/v2/alerts/openstatus-monitor-{monitor}/close?identifierType=alias"


async def test_events_that_are_not_fresh_alerts_are_not_sent(
    sessions: Sessions, bus: Bus, receiver: HttpReceiver, start_notifier: StartNotifier
) -> None:
    workspace, monitor = await make_monitor(sessions)
    await make_channel(sessions, workspace, "webhook", {"endpoint": f"{receiver.url}/h"}, [monitor])
    await start_notifier()
    await publish(bus, alert_event(workspace, monitor, at=utcnow() - timedelta(days=3)))  # replayed history
    # The API's "the monitor's configuration changed" (for status pages): not an alert.
    changed = Event(
        event_id=f"monitor.changed:{monitor}:1",
        kind=EventKind.MONITOR_CHANGED,
        occurred_at=utcnow(),
        workspace_id=workspace,
        monitor_id=monitor,
        data={},
    )
    await publish(bus, changed)
    fresh = alert_event(workspace, monitor)
    await publish(bus, fresh)

    async def fresh_sent() -> bool:
        return len(receiver.delivered("/h")) == 1

    await wait_for(fresh_sent, timeout=10)
    await asyncio.sleep(0.3)
    assert [row.event_id for row in await deliveries(sessions)] == [fresh.event_id]
