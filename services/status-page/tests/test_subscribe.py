"""Subscribing from the page: a pending row and a ``subscriber.pending`` event, the confirm link, the unsubscribe
link (and RFC 8058 one-click), friendly answers for bad tokens, and the limits on the form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import StreamName
from openstatus_common.db.models import EventOutbox, PageSubscriber
from openstatus_common.messages import Event
from openstatus_common.pages.passwords import hash_password
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from status_page import access
from status_page.app import create_app

from .conftest import PageBuilder

BASE = "http://localhost"


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    connected = await Bus.connect(nats_url, name="test-subscribe")
    await connected.ensure_streams()
    try:
        yield connected
    finally:
        await connected.close()


@pytest.fixture
def app(db_engine: AsyncEngine, bus: Bus, tmp_path: Path) -> Any:
    ctx = ServiceContext(name="status-page", settings=Settings(var_dir=tmp_path))
    ctx.attach(engine=db_engine, bus=bus)
    return create_app(ctx)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 1234)), base_url=BASE
    ) as client:
        yield client


async def events_in_stream(bus: Bus) -> list[Event]:
    state = (await bus.js.stream_info(StreamName.EVENTS.value)).state
    if not state.messages:
        return []
    found = []
    for sequence in range(state.first_seq, state.last_seq + 1):
        message = await bus.js.get_msg(StreamName.EVENTS.value, sequence)
        found.append(Event.model_validate_json(message.data or b""))
    return found


async def subscriber_of(sessions: async_sessionmaker[AsyncSession], email: str) -> PageSubscriber:
    async with sessions() as session:
        row = (
            await session.execute(select(PageSubscriber).where(PageSubscriber.email == email))
        ).scalar_one()
        return row


async def test_subscribe_confirm_unsubscribe(
    client: httpx.AsyncClient, build: PageBuilder, bus: Bus, sessions: async_sessionmaker[AsyncSession]
) -> None:
    page_id = await build.page("acme")
    response = await client.post(
        "/acme/subscribe", data={"email": "Alice@Example.COM"}, headers={"origin": BASE}
    )
    assert response.status_code == 200
    assert "Check your inbox to confirm your subscription." in response.text
    row = await subscriber_of(sessions, "Alice@example.com")
    assert row.page_id == page_id
    assert row.accepted_at is None and row.unsubscribed_at is None
    events = await events_in_stream(bus)
    assert [(e.kind.value, e.data) for e in events] == [
        ("subscriber.pending", {"page_id": page_id, "subscriber_id": row.id})
    ]
    async with sessions() as session:  # published after the commit, so no longer in the outbox
        assert (await session.execute(select(EventOutbox))).scalars().all() == []

    # Subscribing again while pending gives the same answer.
    again = await client.post("/acme/subscribe", data={"email": "alice@example.com"})
    assert again.status_code == 200
    assert "Check your inbox" in again.text

    confirmed = await client.get(f"/acme/confirm/{row.token}")
    assert confirmed.status_code == 200
    assert "You are subscribed to updates." in confirmed.text
    assert confirmed.headers["referrer-policy"] == "no-referrer"
    assert (await subscriber_of(sessions, "Alice@example.com")).accepted_at is not None

    # A link checker's HEAD does nothing.
    assert (await client.head(f"/acme/unsubscribe/{row.token}")).status_code == 405
    left = await client.get(f"/acme/unsubscribe/{row.token}")
    assert left.status_code == 200
    assert "You will no longer receive updates." in left.text
    assert (await subscriber_of(sessions, "Alice@example.com")).unsubscribed_at is not None
    # Confirming an unsubscribed address does not bring it back.
    assert (await client.get(f"/acme/confirm/{row.token}")).status_code == 404


async def test_one_click_unsubscribe_by_post(
    client: httpx.AsyncClient, build: PageBuilder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build.page("acme")
    await client.post("/acme/subscribe", data={"email": "bob@example.com"})
    row = await subscriber_of(sessions, "bob@example.com")
    # Mail providers post from their own origin: the token is the secret, no origin check here.
    response = await client.post(
        f"/acme/unsubscribe/{row.token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded", "origin": "https://mail.example"},
    )
    assert response.status_code == 200
    assert (await subscriber_of(sessions, "bob@example.com")).unsubscribed_at is not None


async def test_bad_tokens_get_a_friendly_404(
    client: httpx.AsyncClient, build: PageBuilder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build.page("acme")
    await build.page("other")
    for path in ("/acme/confirm/nope", "/acme/unsubscribe/nope"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "That link is not valid any more." in response.text
    # A token of another page's subscriber does nothing through this page.
    await client.post("/acme/subscribe", data={"email": "carol@example.com"})
    row = await subscriber_of(sessions, "carol@example.com")
    assert (await client.get(f"/other/confirm/{row.token}")).status_code == 404
    assert (await client.get(f"/other/unsubscribe/{row.token}")).status_code == 404
    after = await subscriber_of(sessions, "carol@example.com")
    assert after.accepted_at is None and after.unsubscribed_at is None


async def test_invalid_email_is_400_and_escaped(
    client: httpx.AsyncClient, build: PageBuilder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build.page("acme")
    response = await client.post("/acme/subscribe", data={"email": '"><script>alert(1)</script>'})
    assert response.status_code == 400
    assert "Please enter a valid email address." in response.text
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    async with sessions() as session:
        assert (await session.execute(select(PageSubscriber))).scalars().all() == []


async def test_cross_site_subscribe_is_refused(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("acme")
    response = await client.post(
        "/acme/subscribe", data={"email": "dan@example.com"}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403


async def test_subscribe_is_gated_like_the_page(
    client: httpx.AsyncClient, build: PageBuilder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build.page("secret", access_type="password", password_hash=hash_password("s3cret"))
    response = await client.post("/secret/subscribe", data={"email": "eve@example.com"})
    assert response.status_code == 303
    assert response.headers["location"] == "/secret/login"
    async with sessions() as session:
        assert (await session.execute(select(PageSubscriber))).scalars().all() == []
    await client.post("/secret/login", data={"password": "s3cret"})
    assert (await client.post("/secret/subscribe", data={"email": "eve@example.com"})).status_code == 200


async def test_subscribing_is_rate_limited(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("acme")
    for number in range(access.SUBSCRIBES_PER_WINDOW):
        response = await client.post("/acme/subscribe", data={"email": f"user{number}@example.com"})
        assert response.status_code == 200
    limited = await client.post("/acme/subscribe", data={"email": "one-more@example.com"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
