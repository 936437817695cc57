"""Subscribing from the page: a pending row and a ``subscriber.pending`` event, the confirm link, the unsubscribe
link (and RFC 8058 one-click), links that only act on POST (mail scanners follow them), friendly answers for bad
tokens, email-domain pages taking only their domains, and the limits on the form."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.bus.streams import StreamName
from openstatus_common.db.base import utcnow
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

    # Subscribing again while pending gives the same answer, and no second mail minutes after the first...
    again = await client.post("/acme/subscribe", data={"email": "alice@example.com"})
    assert again.status_code == 200
    assert "Check your inbox" in again.text
    assert len(await events_in_stream(bus)) == 1
    assert (await subscriber_of(sessions, "Alice@example.com")).token == row.token
    # ...but whoever lost the mail gets a new link later (the old one stops working).
    previous_token = row.token
    async with sessions.begin() as session:
        (await session.get_one(PageSubscriber, row.id)).updated_at = utcnow() - timedelta(minutes=11)
    lost = await client.post("/acme/subscribe", data={"email": "alice@example.com"})
    assert "Check your inbox" in lost.text
    assert [e.kind.value for e in await events_in_stream(bus)] == ["subscriber.pending"] * 2
    row = await subscriber_of(sessions, "Alice@example.com")
    assert row.token != previous_token
    # The waits grow with the request's age: a request a day old that was last sent 11 minutes ago waits.
    async with sessions.begin() as session:
        pending = await session.get_one(PageSubscriber, row.id)
        pending.created_at = utcnow() - timedelta(days=1)
        pending.updated_at = utcnow() - timedelta(minutes=11)
    await client.post("/acme/subscribe", data={"email": "alice@example.com"})
    assert len(await events_in_stream(bus)) == 2

    # Following the link (as a mail scanner does) only shows a button posting back to the same address.
    asked = await client.get(f"/acme/confirm/{row.token}")
    assert asked.status_code == 200
    assert "Confirm your subscription" in asked.text
    assert "<h1>Email updates</h1>" in asked.text  # not "Subscribe to updates": they did that already
    assert f'<form method="post" action="/acme/confirm/{row.token}">' in asked.text
    assert asked.headers["referrer-policy"] == "same-origin"
    assert (await subscriber_of(sessions, "Alice@example.com")).accepted_at is None
    # The button's post confirms, from the page itself only.
    cross = await client.post(f"/acme/confirm/{row.token}", headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    assert (await subscriber_of(sessions, "Alice@example.com")).accepted_at is None
    confirmed = await client.post(f"/acme/confirm/{row.token}", headers={"origin": BASE})
    assert confirmed.status_code == 200
    assert "You are subscribed to updates." in confirmed.text
    assert confirmed.headers["referrer-policy"] == "same-origin"
    assert (await subscriber_of(sessions, "Alice@example.com")).accepted_at is not None

    # A link checker's HEAD does nothing; neither does following the unsubscribe link.
    assert (await client.head(f"/acme/unsubscribe/{row.token}")).status_code == 405
    assert (await client.head(f"/acme/confirm/{row.token}")).status_code == 405
    shown = await client.get(f"/acme/unsubscribe/{row.token}")
    assert shown.status_code == 200
    assert f'<form method="post" action="/acme/unsubscribe/{row.token}">' in shown.text
    assert (await subscriber_of(sessions, "Alice@example.com")).unsubscribed_at is None
    left = await client.post(f"/acme/unsubscribe/{row.token}", headers={"origin": BASE})
    assert left.status_code == 200
    assert "You will no longer receive updates." in left.text
    assert (await subscriber_of(sessions, "Alice@example.com")).unsubscribed_at is not None
    # Confirming an unsubscribed address does not bring it back (and its link says so).
    assert (await client.get(f"/acme/confirm/{row.token}")).status_code == 404
    assert (await client.post(f"/acme/confirm/{row.token}", headers={"origin": BASE})).status_code == 404
    assert (await subscriber_of(sessions, "Alice@example.com")).accepted_at is not None


async def test_following_the_links_changes_nothing(
    client: httpx.AsyncClient, build: PageBuilder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build.page("acme", default_locale="en", locales=["en", "fr"])
    await client.post("/acme/subscribe", data={"email": "scan@example.com"})
    row = await subscriber_of(sessions, "scan@example.com")
    for _ in range(3):  # a mail scanner, then a second one, then the person
        assert (await client.get(f"/acme/confirm/{row.token}")).status_code == 200
        assert (await client.get(f"/acme/unsubscribe/{row.token}")).status_code == 200
    after = await subscriber_of(sessions, "scan@example.com")
    assert after.accepted_at is None and after.unsubscribed_at is None
    # In another locale the button posts to that locale's address.
    french = await client.get(f"/acme/fr/confirm/{row.token}")
    assert f'action="/acme/fr/confirm/{row.token}"' in french.text
    assert "Confirmer l\u2019abonnement" in french.text


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
        for response in (await client.get(path), await client.post(path, headers={"origin": BASE})):
            assert response.status_code == 404
            assert "That link is not valid any more." in response.text
            assert "<form" not in response.text
    # A token of another page's subscriber does nothing through this page.
    await client.post("/acme/subscribe", data={"email": "carol@example.com"})
    row = await subscriber_of(sessions, "carol@example.com")
    for action in ("confirm", "unsubscribe"):
        assert (await client.get(f"/other/{action}/{row.token}")).status_code == 404
        assert (
            await client.post(f"/other/{action}/{row.token}", headers={"origin": BASE})
        ).status_code == 404
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


async def test_an_email_domain_page_takes_only_its_domains(
    client: httpx.AsyncClient, build: PageBuilder, app: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    page_id = await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    token = access.sign(
        app.state.pages.signing_key,
        access.MAGIC,
        {"page": page_id, "email": "alice@acme.com"},
        expires_at=time.time() + 60,
    )
    assert (await client.get("/intranet/login/magic", params={"token": token})).status_code == 303
    refused = await client.post("/intranet/subscribe", data={"email": "mallory@evil.com"})
    assert refused.status_code == 403
    assert "This email domain has no access to this page." in refused.text
    async with sessions() as session:
        assert (await session.execute(select(PageSubscriber))).scalars().all() == []
    accepted = await client.post("/intranet/subscribe", data={"email": "Bob@ACME.com"})
    assert accepted.status_code == 200
    assert (await subscriber_of(sessions, "Bob@acme.com")).page_id == page_id


async def test_subscribing_is_rate_limited(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("acme")
    for number in range(access.SUBSCRIBES_PER_WINDOW):
        response = await client.post("/acme/subscribe", data={"email": f"user{number}@example.com"})
        assert response.status_code == 200
    limited = await client.post("/acme/subscribe", data={"email": "one-more@example.com"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
