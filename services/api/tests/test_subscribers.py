"""Page subscribers: double opt-in by default (pending + subscriber.pending event), skipConfirmation,
unsubscribe and re-subscribe, the shared confirm/unsubscribe-by-token functions, scopes and tenants."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import EventOutbox, PageSubscriber
from openstatus_common.errors import InvalidArgument
from openstatus_common.pages import subscribers

from .conftest import MakeKey
from .page_helpers import assert_error, create_page, events_in_stream, h

Sessions = async_sessionmaker[AsyncSession]


async def stored(sessions: Sessions, subscriber_id: str) -> PageSubscriber:
    async with sessions() as session:
        query = select(PageSubscriber).where(PageSubscriber.id == int(subscriber_id))
        return (await session.execute(query)).scalar_one()


async def test_subscribing_is_double_opt_in_by_default(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}/subscriber"
    response = await client.post(path, json={"email": " Jane.Doe@Example.COM "}, headers=h(key))
    assert response.status_code == 201, response.text
    subscriber = response.json()
    assert subscriber["email"] == "Jane.Doe@example.com"  # the domain is lowercased, the local part kept
    assert (subscriber["status"], subscriber["acceptedAt"], subscriber["unsubscribedAt"]) == (
        "pending",
        None,
        None,
    )
    row = await stored(sessions, subscriber["id"])
    assert len(row.token) >= 40 and row.token not in response.text

    [event] = await events_in_stream(bus, "subscriber.pending")
    assert event.data == {"page_id": int(page["id"]), "subscriber_id": int(subscriber["id"])}
    assert event.event_id.startswith(f"subscriber.pending:{subscriber['id']}:")
    async with sessions() as session:
        assert (await session.execute(select(EventOutbox))).first() is None  # published, so unstaged

    # Confirming through the link's token (what the status page does) activates it.
    async with unit_of_work(sessions) as session:
        confirmed = await subscribers.confirm(session, row.token)
        assert confirmed is not None and confirmed.accepted_at is not None
        assert await subscribers.confirm(session, "no-such-token") is None
    fetched = (await client.get(f"{path}/{subscriber['id']}", headers=h(key))).json()
    assert fetched["status"] == "active" and fetched["acceptedAt"] is not None

    # Subscribing an active address again changes nothing and mails nobody.
    again = await client.post(path, json={"email": "jane.doe@example.com"}, headers=h(key))
    assert again.json()["id"] == subscriber["id"] and again.json()["status"] == "active"
    assert len(await events_in_stream(bus, "subscriber.pending")) == 1


async def test_skip_confirmation_makes_the_subscriber_active_at_once(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    response = await client.post(
        f"/v1/page/{page['id']}/subscriber",
        json={"email": "ops@example.com", "skipConfirmation": True},
        headers=h(key),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert response.json()["acceptedAt"] is not None
    assert await events_in_stream(bus, "subscriber.pending") == []


async def test_unsubscribe_and_resubscribe(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}/subscriber"
    subscriber = (
        await client.post(path, json={"email": "a@example.com", "skipConfirmation": True}, headers=h(key))
    ).json()
    other = (await client.post(path, json={"email": "b@example.com"}, headers=h(key))).json()
    old_token = (await stored(sessions, subscriber["id"])).token

    assert (await client.delete(f"{path}/{subscriber['id']}", headers=h(key))).json() == {"success": True}
    assert (
        await client.delete(f"{path}/{subscriber['id']}", headers=h(key))
    ).status_code == 200  # idempotent
    active = (await client.get(path, headers=h(key))).json()
    assert [item["id"] for item in active["items"]] == [other["id"]] and active["totalSize"] == 1
    everyone = (await client.get(f"{path}?includeUnsubscribed=true", headers=h(key))).json()
    assert everyone["totalSize"] == 2
    gone = next(item for item in everyone["items"] if item["id"] == subscriber["id"])
    assert gone["status"] == "unsubscribed" and gone["unsubscribedAt"] is not None

    # Subscribing again re-activates the same row as pending, with a new token (old links stop working).
    again = await client.post(path, json={"email": "a@example.com"}, headers=h(key))
    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["status"], again.json()["unsubscribedAt"]) == (
        subscriber["id"],
        "pending",
        None,
    )
    row = await stored(sessions, subscriber["id"])
    assert row.token != old_token
    pending = await events_in_stream(bus, "subscriber.pending")
    assert [event.data["subscriber_id"] for event in pending] == [int(other["id"]), int(subscriber["id"])]

    # The one-click unsubscribe link (the status page's route) uses the token.
    async with unit_of_work(sessions) as session:
        assert await subscribers.unsubscribe_by_token(session, old_token) is None
        done = await subscribers.unsubscribe_by_token(session, row.token)
        assert done is not None and done.unsubscribed_at is not None
        # An unsubscribed address cannot be confirmed with its old link.
        assert await subscribers.confirm(session, row.token) is None


@pytest.mark.parametrize(
    "email",
    ["", "plainaddress", "a@b", "a b@example.com", "a@exa mple.com", "a@@example.com", ".a@example.com"],
)
async def test_invalid_emails_name_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, email: str
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    response = await client.post(f"/v1/page/{page['id']}/subscriber", json={"email": email}, headers=h(key))
    assert_error(response, 400, field="email", code="invalid_argument")


def test_email_normalization() -> None:
    assert subscribers.normalize_email("First.Last+tag@Sub.Example.ORG") == "First.Last+tag@sub.example.org"
    with pytest.raises(InvalidArgument) as error:
        subscribers.normalize_email("x@127.0.0.1")
    assert error.value.field == "email"


async def test_scopes_and_tenants(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key, reader, other = await make_key("acme"), await make_key("acme", ("read",)), await make_key("other")
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}/subscriber"
    subscriber = (await client.post(path, json={"email": "a@example.com"}, headers=h(key))).json()
    assert_error(await client.post(path, json={"email": "b@example.com"}, headers=h(reader)), 403)
    assert_error(await client.delete(f"{path}/{subscriber['id']}", headers=h(reader)), 403)
    assert (await client.get(path, headers=h(reader))).json()["totalSize"] == 1
    assert_error(await client.get(path, headers=h(other)), 404)
    assert_error(await client.post(path, json={"email": "b@example.com"}, headers=h(other)), 404)
    assert_error(await client.delete(f"{path}/{subscriber['id']}", headers=h(other)), 404)
    second = await create_page(client, key, slug="second")
    wrong_page = f"/v1/page/{second['id']}/subscriber/{subscriber['id']}"
    assert_error(await client.delete(wrong_page, headers=h(key)), 404, field="subscriberId")
