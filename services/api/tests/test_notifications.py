"""The notification channels REST API: the 13 providers, validation naming the field, secrets never returned,
partial updates that keep secrets, monitor links, tenants and scopes, the delivery log, and send-test."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.senders import open_context
from notifier.sendtest import serve_tests
from openstatus_common.bus import Bus
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import NotificationDelivery
from openstatus_common.local.natsd import free_port
from openstatus_common.settings import Settings

from .conftest import MakeKey

SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXsecretABCD"

VALID: dict[str, dict[str, Any]] = {
    "slack": {"webhookUrl": SLACK_URL},
    "discord": {"webhookUrl": "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnop1234"},
    "email": {"email": "alerts@example.com"},
    "google-chat": {"webhookUrl": "https://chat.googleapis.com/v1/spaces/AAA/messages?key=k1&token=t1secret"},
    "grafana-oncall": {
        "webhookUrl": "https://oncall.example.com/integrations/v1/formatted_webhook/abcdef123/"
    },
    "ntfy": {"topic": "my-alerts", "serverUrl": "https://ntfy.sh", "token": "tk_abcdefghijklmnop"},
    "pagerduty": {"integrationKey": "0123456789abcdef0123456789abcdef"},
    "opsgenie": {"apiKey": "12345678-abcd-ef01-2345-6789abcdef01", "region": "eu"},
    "sms": {"phoneNumber": "+14155552671"},
    "telegram": {"chatId": "123456789"},
    "webhook": {
        "endpoint": "https://api.example.com/webhook/inbound-8f3a9c",
        "headers": [{"key": "Authorization", "value": "Bearer very-secret-token"}],
    },
    "whatsapp": {"phoneNumber": "+14155552671"},
    "ms-teams": {
        "webhookUrl": "https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual?sig=s1g"
    },
}
SECRETS = [
    "XXXXXXXXsecret",
    "abcdefghijklmnop1234",
    "t1secret",
    "formatted_webhook/abcdef123",
    "tk_abcdefghijklmnop",
    "0123456789abcdef0123456789abcdef",
    "12345678-abcd-ef01-2345-6789abcdef01",
    "inbound-8f3a9c",
    "very-secret-token",
    "sig=s1g",
]


def h(key: str) -> dict[str, str]:
    return {"x-openstatus-key": key}


async def make_monitor(client: httpx.AsyncClient, key: str, name: str = "Homepage") -> str:
    response = await client.post(
        "/v1/monitor/http",
        json={"name": name, "url": "https://example.com", "periodicity": "1m"},
        headers=h(key),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def create(client: httpx.AsyncClient, key: str, **body: Any) -> httpx.Response:
    return await client.post("/v1/notification", json=body, headers=h(key))


@pytest.mark.parametrize("provider", list(VALID))
async def test_every_provider_is_created_and_read_back_masked(
    client: httpx.AsyncClient, make_key: MakeKey, provider: str
) -> None:
    key = await make_key()
    monitor = await make_monitor(client, key)
    response = await create(
        client, key, name=f"{provider} alerts", provider=provider, data=VALID[provider], monitorIds=[monitor]
    )
    assert response.status_code == 201, response.text
    channel = response.json()
    assert channel["provider"] == provider
    assert channel["monitorIds"] == [monitor]
    assert channel["id"].isdigit()
    for secret in SECRETS:
        assert secret not in response.text
    fetched = await client.get(f"/v1/notification/{channel['id']}", headers=h(key))
    assert fetched.status_code == 200
    assert fetched.json() == channel


async def test_masked_forms_keep_enough_to_recognise_the_channel(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    slack = (await create(client, key, provider="slack", data=VALID["slack"])).json()
    assert slack["data"] == {"webhookUrl": "https://hooks.slack.com/****ABCD"}
    assert slack["name"] == "slack"  # defaults to the provider
    hook = (await create(client, key, provider="webhook", data=VALID["webhook"])).json()
    assert hook["data"] == {
        "endpoint": "https://api.example.com/****3a9c",
        "headers": [{"key": "Authorization", "value": "****oken"}],
    }
    ntfy = (await create(client, key, provider="NOTIFICATION_PROVIDER_NTFY", data=VALID["ntfy"])).json()
    assert ntfy["provider"] == "ntfy"
    assert ntfy["data"] == {"topic": "my-alerts", "serverUrl": "https://ntfy.sh", "token": "****mnop"}
    email = (await create(client, key, provider="email", data=VALID["email"])).json()
    assert email["data"] == {"email": "alerts@example.com"}  # not a secret


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"provider": "slack", "data": {"webhookUrl": "not a url"}}, "data.webhookUrl", "whitespace"),
        ({"provider": "slack", "data": {"webhookUrl": "ftp://example.com/x"}}, "data.webhookUrl", "http"),
        ({"provider": "discord", "data": {}}, "data.webhookUrl", "required"),
        ({"provider": "ntfy", "data": {"serverUrl": "https://ntfy.sh"}}, "data.topic", "required"),
        ({"provider": "ntfy", "data": {"topic": "a b"}}, "data.topic", "letters"),
        (
            {"provider": "ntfy", "data": {"topic": "t", "serverUrl": "https://n.io/path"}},
            "data.serverUrl",
            "address",
        ),
        ({"provider": "pigeon", "data": {}}, "provider", "expected one of"),
        ({"data": {}}, "provider", "required"),
        (
            {"provider": "slack", "data": {"webhookUrl": SLACK_URL, "channel": "#x"}},
            "data.channel",
            "not a slack",
        ),
        ({"provider": "email", "data": {"email": "nobody"}}, "data.email", "email address"),
        ({"provider": "sms", "data": {"phoneNumber": "0415 555"}}, "data.phoneNumber", "international"),
        ({"provider": "opsgenie", "data": {"apiKey": "12345678abc", "region": "mars"}}, "data.region", "us"),
        ({"provider": "telegram", "data": {"chatId": "hello"}}, "data.chatId", "chat id"),
        (
            {
                "provider": "webhook",
                "data": {"endpoint": "https://x.io", "headers": [{"key": "a b", "value": ""}]},
            },
            "data.headers[0].key",
            "header name",
        ),
        (
            {"provider": "slack", "data": {"webhookUrl": "https://hooks.slack.com/****ABCD"}},
            "data.webhookUrl",
            "masked",
        ),
        (
            {"provider": "slack", "data": {"webhookUrl": SLACK_URL}, "monitorIds": ["1", "x"]},
            "monitorIds[1]",
            "id",
        ),
        ({"provider": "slack", "data": {"webhookUrl": SLACK_URL}, "extra": 1}, "extra", "Extra"),
    ],
)
async def test_bad_configs_are_refused_naming_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, body: dict[str, Any], field: str, words: str
) -> None:
    key = await make_key()
    response = await client.post("/v1/notification", json=body, headers=h(key))
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "invalid_argument"
    assert error["field"] == field
    assert words.lower() in error["message"].lower()


async def test_monitors_must_be_live_and_in_the_callers_workspace(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key("acme")
    other = await make_key("globex")
    mine = await make_monitor(client, key)
    theirs = await make_monitor(client, other)
    gone = await make_monitor(client, key, "Gone")
    assert (await client.delete(f"/v1/monitor/{gone}", headers=h(key))).status_code == 200
    for ids, field in (
        ([mine, theirs], "monitorIds[1]"),
        ([int(gone)], "monitorIds[0]"),
        ([999999], "monitorIds[0]"),
    ):
        response = await create(client, key, provider="slack", data=VALID["slack"], monitorIds=ids)
        assert response.status_code == 400, response.text
        assert response.json()["field"] == field
    response = await create(client, key, provider="slack", data=VALID["slack"], monitorIds=[int(mine), mine])
    assert response.json()["monitorIds"] == [mine]  # numbers or strings, duplicates once


async def test_patch_changes_only_what_is_given_and_keeps_secrets(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: async_sessionmaker[AsyncSession]
) -> None:
    key = await make_key()
    first = await make_monitor(client, key)
    second = await make_monitor(client, key, "API")
    hook = (await create(client, key, provider="webhook", data=VALID["webhook"], monitorIds=[first])).json()
    url = f"/v1/notification/{hook['id']}"

    renamed = await client.patch(url, json={"name": "Ops webhook"}, headers=h(key))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Ops webhook"
    assert renamed.json()["data"] == hook["data"] and renamed.json()["monitorIds"] == [first]

    # The masked body sent back as is (what a GET-edit-PUT client does) keeps the stored secrets.
    echoed = await client.patch(url, json={"data": hook["data"]}, headers=h(key))
    assert echoed.status_code == 200, echoed.text
    stored = await _config(sessions, int(hook["id"]))
    assert stored == VALID["webhook"]

    # A new header value replaces; the endpoint left out keeps its value.
    new_headers = [{"key": "Authorization", "value": "Bearer rotated-secret"}]
    rotated = await client.patch(url, json={"data": {"headers": new_headers}}, headers=h(key))
    assert rotated.status_code == 200
    assert await _config(sessions, int(hook["id"])) == {
        "endpoint": VALID["webhook"]["endpoint"],
        "headers": new_headers,
    }

    relinked = await client.patch(url, json={"monitorIds": [second]}, headers=h(key))
    assert relinked.json()["monitorIds"] == [second]
    unlinked = await client.patch(url, json={"monitorIds": []}, headers=h(key))
    assert unlinked.json()["monitorIds"] == []

    bad = await client.patch(url, json={"data": {"endpoint": "nope"}}, headers=h(key))
    assert bad.status_code == 400 and bad.json()["field"] == "data.endpoint"
    fixed_provider = await client.patch(url, json={"provider": "slack"}, headers=h(key))
    assert fixed_provider.status_code == 400 and fixed_provider.json()["field"] == "provider"


async def _config(sessions: async_sessionmaker[AsyncSession], channel_id: int) -> dict[str, Any]:
    from openstatus_common.db.models import NotificationChannel

    async with unit_of_work(sessions) as session:
        channel = await session.get(NotificationChannel, channel_id)
        assert channel is not None
        return dict(channel.config)


async def test_list_get_delete_tenants_and_scopes(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key("acme")
    reader = await make_key("acme", scopes=("read",))
    stranger = await make_key("globex")
    ids = [
        (await create(client, key, provider="email", data={"email": f"a{n}@example.com"})).json()["id"]
        for n in range(3)
    ]

    page = (await client.get("/v1/notification?limit=2&offset=1", headers=h(reader))).json()
    assert [item["id"] for item in page["items"]] == ids[1:]
    assert page["totalSize"] == 3
    assert (await client.get("/v1/notification", headers=h(stranger))).json()["totalSize"] == 0
    assert (await client.get(f"/v1/notification/{ids[0]}", headers=h(stranger))).status_code == 404

    refused = await create(client, reader, provider="email", data={"email": "x@example.com"})
    assert refused.status_code == 403
    assert (await client.delete(f"/v1/notification/{ids[0]}", headers=h(reader))).status_code == 403
    assert (await client.delete(f"/v1/notification/{ids[0]}", headers=h(stranger))).status_code == 404

    assert (await client.delete(f"/v1/notification/{ids[0]}", headers=h(key))).json() == {"success": True}
    assert (await client.get(f"/v1/notification/{ids[0]}", headers=h(key))).status_code == 404
    assert (await client.get("/v1/notification", headers=h(key))).json()["totalSize"] == 2


async def test_the_delivery_log_is_readable_per_channel(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: async_sessionmaker[AsyncSession]
) -> None:
    key = await make_key()
    stranger = await make_key("globex")
    channel = (await create(client, key, provider="email", data={"email": "a@example.com"})).json()
    now = utcnow()
    async with unit_of_work(sessions) as session:
        for n, status in enumerate(["sent", "failed", "pending"]):
            session.add(
                NotificationDelivery(
                    event_id=f"evt-{n}",
                    channel_id=int(channel["id"]),
                    status=status,
                    attempts=5 if status == "failed" else 1,
                    last_error="smtp.example.com answered 554" if status == "failed" else None,
                    sent_at=now if status == "sent" else None,
                    next_attempt_at=now if status == "pending" else None,
                    monitor_id=1,
                    payload={"kind": "monitor.error", "alert": {"status": "error"}},
                )
            )
    url = f"/v1/notification/{channel['id']}/deliveries"
    log = (await client.get(url, headers=h(key))).json()
    assert log["totalSize"] == 3
    assert [item["eventId"] for item in log["items"]] == ["evt-2", "evt-1", "evt-0"]  # newest first
    failed = log["items"][1]
    assert failed["status"] == "failed" and failed["attempts"] == 5
    assert failed["lastError"] == "smtp.example.com answered 554"
    assert (
        failed["event"] == "monitor.error" and failed["alertStatus"] == "error" and failed["monitorId"] == "1"
    )
    assert log["items"][0]["nextAttemptAt"] is not None and log["items"][2]["sentAt"] is not None

    only_failed = (await client.get(f"{url}?status=failed&limit=1", headers=h(key))).json()
    assert [item["eventId"] for item in only_failed["items"]] == ["evt-1"]
    assert (await client.get(f"{url}?status=lost", headers=h(key))).status_code == 400
    assert (await client.get(url, headers=h(stranger))).status_code == 404


class _Receiver:
    """A tiny HTTP server that records POST bodies by path."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[Any]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.bodies.setdefault(self.path, []).append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
async def notifier(bus: Bus) -> AsyncIterator[None]:
    """The notifier's send-test responder, on the API's bus."""
    stop = asyncio.Event()
    async with open_context(Settings(notify_timeout=2)) as senders:
        task = asyncio.create_task(serve_tests(bus, senders, stop))
        await asyncio.sleep(0.1)  # subscribed
        yield
        stop.set()
        await task


async def test_send_test_tries_a_config_without_saving_it(
    client: httpx.AsyncClient, make_key: MakeKey, receiver: _Receiver, notifier: None
) -> None:
    key = await make_key()
    ok = await client.post(
        "/v1/notification/test",
        json={"provider": "webhook", "data": {"endpoint": f"{receiver.url}/hook"}},
        headers=h(key),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"success": True, "error": None}
    assert receiver.bodies["/hook"][0]["monitor"] == {"id": 1, "name": "test", "url": "http://openstat.us"}
    assert (await client.get("/v1/notification", headers=h(key))).json()["totalSize"] == 0

    down = await client.post(
        "/v1/notification/test",
        json={
            "provider": "slack",
            "data": {"webhookUrl": f"http://127.0.0.1:{free_port()}/services/secretpath1"},
        },
        headers=h(key),
    )
    assert down.status_code == 200
    assert down.json()["success"] is False
    assert "could not reach" in down.json()["error"] and "secretpath1" not in down.json()["error"]

    saved = (await create(client, key, provider="discord", data={"webhookUrl": f"{receiver.url}/d"})).json()
    again = await client.post(f"/v1/notification/{saved['id']}/test", headers=h(key))
    assert again.json() == {"success": True, "error": None}
    assert receiver.bodies["/d"][0]["embeds"][0]["title"] == "Test notification from openstatus"

    invalid = await client.post(
        "/v1/notification/test", json={"provider": "ntfy", "data": {}}, headers=h(key)
    )
    assert invalid.status_code == 400 and invalid.json()["field"] == "data.topic"
    reader = await make_key(scopes=("read",))
    refused = await client.post(
        "/v1/notification/test", json={"provider": "email", "data": {"email": "a@b.co"}}, headers=h(reader)
    )
    assert refused.status_code == 403


async def test_send_test_without_a_notifier_is_unavailable(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    response = await client.post(
        "/v1/notification/test", json={"provider": "email", "data": {"email": "a@b.co"}}, headers=h(key)
    )
    assert response.status_code == 503
    assert "notifier" in response.json()["message"]
