"""Access control: password pages (login, session cookie, ``?pw=``, rate limit), IP-restricted pages (client
address, X-Forwarded-For only from trusted proxies) and email-domain pages (magic link by mail, then a session)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import AsyncIterator, Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request

from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import StatusPage
from openstatus_common.pages.passwords import hash_password, verify_password
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.receivers import SmtpReceiver
from status_page import access
from status_page.app import create_app
from status_page.context import Pages

from .conftest import PageBuilder

PASSWORD = "s3cret"
PASSWORD_HASH = hash_password(PASSWORD)
VISITOR = ("203.0.113.9", 1234)
BASE = "http://localhost"
HTML_ACCEPT = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def app(db_engine: AsyncEngine, tmp_path: Path, smtp: SmtpReceiver) -> Any:
    settings = Settings(
        var_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        trusted_proxies="10.0.0.0/8",
        public_status_page_url="http://status.example.test",
    )
    ctx = ServiceContext(name="status-page", settings=settings)
    ctx.attach(engine=db_engine)
    return create_app(ctx)


def pages_of(app: Any) -> Pages:
    pages: Pages = app.state.pages
    return pages


def make_client(app: Any, peer: tuple[str, int] = VISITOR) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=peer), base_url=BASE)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        yield client


def session_cookie(response: httpx.Response, page_id: int) -> str:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"os_page_{page_id}="))
    return header


# --- password --------------------------------------------------------------------------------------------


async def test_password_page_redirects_to_login_with_next(
    client: httpx.AsyncClient, build: PageBuilder
) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    response = await client.get("/secret")
    assert response.status_code == 303
    assert response.headers["location"] == "/secret/login"
    response = await client.get("/secret/events")
    assert response.headers["location"] == "/secret/login?next=events"
    form = await client.get("/secret/login?next=events")
    assert form.status_code == 200
    assert 'type="password"' in form.text
    assert 'name="next" value="events"' in form.text
    assert form.headers["cache-control"] == "no-store"


async def test_wrong_password_is_401_and_shows_nothing(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page(
        "secret", access_type="password", password_hash=PASSWORD_HASH, description="Top secret stuff"
    )
    response = await client.post("/secret/login", data={"password": "guess", "next": ""})
    assert response.status_code == 401
    assert "Wrong password." in response.text
    assert "set-cookie" not in response.headers
    assert "Subscribe to updates" not in response.text
    assert (await client.get("/secret")).status_code == 303


async def test_right_password_sets_a_session_cookie(client: httpx.AsyncClient, build: PageBuilder) -> None:
    page_id = await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    response = await client.post("/secret/login", data={"password": PASSWORD, "next": "events"})
    assert response.status_code == 303
    assert response.headers["location"] == "/secret/events"
    cookie = session_cookie(response, page_id).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/secret" in cookie
    assert "max-age=604800" in cookie
    assert "secure" not in cookie  # plain http here
    page = await client.get("/secret")
    assert page.status_code == 200
    assert "Subscribe to updates" in page.text
    # Signed in: the login page sends the visitor on.
    assert (await client.get("/secret/login?next=events")).headers["location"] == "/secret/events"


async def test_next_never_leaves_the_page(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    for evil in (
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "../other",
    ):
        response = await client.post("/secret/login", data={"password": PASSWORD, "next": evil})
        assert response.status_code == 303
        assert response.headers["location"] == "/secret", evil


async def test_a_cookie_for_one_page_does_not_open_another(
    client: httpx.AsyncClient, build: PageBuilder, app: Any
) -> None:
    a = await build.page("alpha", access_type="password", password_hash=PASSWORD_HASH)
    b = await build.page("bravo", access_type="password", password_hash=PASSWORD_HASH)
    login = await client.post("/alpha/login", data={"password": PASSWORD})
    token = session_cookie(login, a).split(";")[0].split("=", 1)[1]
    async with make_client(app) as other:
        other.cookies.set(f"os_page_{b}", token)
        assert (await other.get("/bravo")).status_code == 303
        other.cookies.set(f"os_page_{a}", token)
        assert (await other.get("/bravo")).status_code == 303
        assert (await other.get("/alpha")).status_code == 200


async def test_changing_the_password_signs_everyone_out(
    client: httpx.AsyncClient, build: PageBuilder, app: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    page_id = await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    await client.post("/secret/login", data={"password": PASSWORD})
    assert (await client.get("/secret")).status_code == 200
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(StatusPage).where(StatusPage.id == page_id).values(password_hash=hash_password("n3w"))
        )
    pages_of(app).store.invalidate_page(page_id)
    assert (await client.get("/secret")).status_code == 303


async def test_share_link_with_pw(client: httpx.AsyncClient, build: PageBuilder) -> None:
    page_id = await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    # A browser trades the password in the address for a cookie, and the address loses it.
    response = await client.get("/secret/events?pw=s3cret&x=1", headers=HTML_ACCEPT)
    assert response.status_code == 303
    assert response.headers["location"] == "/secret/events?x=1"
    assert session_cookie(response, page_id)
    assert (await client.get("/secret/events?x=1")).status_code == 200
    # A wrong one goes to the login page.
    client.cookies.clear()
    wrong = await client.get("/secret?pw=nope", headers=HTML_ACCEPT)
    assert wrong.status_code == 303
    assert wrong.headers["location"] == "/secret/login"


async def test_share_link_opens_feeds_directly(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    feed = await client.get("/secret/feed/rss?pw=s3cret", headers=HTML_ACCEPT)
    assert feed.status_code == 200
    assert "set-cookie" not in feed.headers
    # Programs without the password get a 401 they understand, not the HTML login page.
    for path in (
        "/secret/feed/rss",
        "/secret/feed/json?pw=wrong",
        "/secret/api/v2/summary.json",
        "/secret/badge",
    ):
        refused = await client.get(path)
        assert refused.status_code == 401, path
        assert "Add ?pw=<password>" in refused.text and refused.headers["cache-control"] == "no-store"
    assert (await client.get("/secret/api/v2/summary.json?pw=s3cret")).json()["page"]["name"]
    assert (await client.get("/secret/events")).status_code == 303  # a browser goes to the login page
    # A client that does not ask for HTML (a feed reader, an image) gets the content straight away.
    assert (await client.get("/secret/events?pw=s3cret", headers={"accept": "*/*"})).status_code == 200


async def test_login_attempts_are_rate_limited_per_client(
    client: httpx.AsyncClient, build: PageBuilder, app: Any
) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    for _ in range(access.LOGIN_FAILURES_PER_WINDOW):
        assert (await client.post("/secret/login", data={"password": "guess"})).status_code == 401
    limited = await client.post("/secret/login", data={"password": PASSWORD})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.text
    assert limited.headers["retry-after"] == "60"
    assert "set-cookie" not in limited.headers
    # The share link counts and is limited the same way.
    assert (await client.get("/secret?pw=s3cret", headers=HTML_ACCEPT)).status_code == 429
    # Somebody else is not.
    async with make_client(app, ("198.51.100.20", 1)) as other:
        assert (await other.post("/secret/login", data={"password": PASSWORD})).status_code == 303


async def test_concurrent_guesses_do_not_outrun_the_limit(
    client: httpx.AsyncClient, build: PageBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    checked: list[str] = []

    def slow_verify(password: str, stored: str) -> bool:
        checked.append(password)
        time.sleep(0.05)  # every guess is in flight before the first one is judged
        return verify_password(password, stored)

    monkeypatch.setattr(access, "verify_password", slow_verify)
    guesses = [client.post("/secret/login", data={"password": f"guess{n}"}) for n in range(10)]
    statuses = sorted(response.status_code for response in await asyncio.gather(*guesses))
    limit = access.LOGIN_FAILURES_PER_WINDOW
    assert statuses == [401] * limit + [429] * (10 - limit)
    assert len(checked) == limit
    # The share link shares the count: nothing more is checked.
    assert (await client.get("/secret?pw=guess", headers=HTML_ACCEPT)).status_code == 429
    assert len(checked) == limit


async def test_a_right_password_clears_the_count(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    for _ in range(access.LOGIN_FAILURES_PER_WINDOW - 1):
        assert (await client.post("/secret/login", data={"password": "guess"})).status_code == 401
    assert (await client.post("/secret/login", data={"password": PASSWORD})).status_code == 303
    client.cookies.clear()
    for _ in range(access.LOGIN_FAILURES_PER_WINDOW):
        assert (await client.post("/secret/login", data={"password": "guess"})).status_code == 401
    assert (await client.post("/secret/login", data={"password": "guess"})).status_code == 429


async def test_an_ipv6_client_is_limited_by_its_64(app: Any, build: PageBuilder) -> None:
    await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    for n in range(access.LOGIN_FAILURES_PER_WINDOW):
        async with make_client(app, (f"2001:db8:1:2::{n + 1:x}", 1)) as client:
            assert (await client.post("/secret/login", data={"password": "guess"})).status_code == 401
    async with make_client(app, ("2001:db8:1:2:ffff::1", 1)) as same_64:
        assert (await same_64.post("/secret/login", data={"password": PASSWORD})).status_code == 429
    async with make_client(app, ("2001:db8:1:3::1", 1)) as next_64:
        assert (await next_64.post("/secret/login", data={"password": PASSWORD})).status_code == 303


async def test_cross_site_login_and_logout_are_refused(client: httpx.AsyncClient, build: PageBuilder) -> None:
    page_id = await build.page("secret", access_type="password", password_hash=PASSWORD_HASH)
    evil = {"origin": "https://evil.example"}
    response = await client.post("/secret/login", data={"password": PASSWORD}, headers=evil)
    assert response.status_code == 403
    same = {"origin": BASE}
    assert (await client.post("/secret/login", data={"password": PASSWORD}, headers=same)).status_code == 303
    assert (
        await client.post("/secret/logout", headers={"referer": "https://evil.example/x"})
    ).status_code == 403
    assert (await client.get("/secret")).status_code == 200
    logout = await client.post("/secret/logout", headers={"referer": f"{BASE}/secret"})
    assert logout.status_code == 303
    assert f'os_page_{page_id}=""' in logout.headers["set-cookie"]
    assert (await client.get("/secret")).status_code == 303


async def test_public_pages_have_no_login(client: httpx.AsyncClient, build: PageBuilder) -> None:
    await build.page("open")
    assert (await client.get("/open")).status_code == 200
    response = await client.get("/open/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/open"


# --- IP restriction --------------------------------------------------------------------------------------


async def _status(app: Any, peer: str, path: str = "/office", headers: dict[str, str] | None = None) -> int:
    async with make_client(app, (peer, 5555)) as client:
        return (await client.get(path, headers=headers)).status_code


async def test_ip_restriction_by_peer_address(app: Any, build: PageBuilder) -> None:
    await build.page(
        "office", access_type="ip-restriction", allowed_ip_ranges=["203.0.113.0/24", " 198.51.100.7 "]
    )
    assert await _status(app, "203.0.113.9") == 200
    assert await _status(app, "203.0.113.250") == 200
    assert await _status(app, "198.51.100.7") == 200  # a bare address is a /32
    assert await _status(app, "198.51.100.8") == 403
    assert await _status(app, "::ffff:203.0.113.9") == 200  # IPv4-mapped is IPv4
    assert await _status(app, "2001:db8::1") == 403  # IPv6 is never allowed
    async with make_client(app, ("192.0.2.1", 1)) as client:
        refused = await client.get("/office/events")
        assert refused.status_code == 403
        assert "Access Restricted" in refused.text
        assert 'type="password"' not in refused.text
        # No login flow for an IP-restricted page.
        assert (await client.get("/office/login")).headers["location"] == "/office"


async def test_x_forwarded_for_only_from_trusted_proxies(app: Any, build: PageBuilder) -> None:
    await build.page("office", access_type="ip-restriction", allowed_ip_ranges=["203.0.113.0/24"])
    spoofed = {"x-forwarded-for": "203.0.113.9"}
    assert await _status(app, "192.0.2.1", headers=spoofed) == 403  # untrusted peer: header ignored
    # Behind a trusted proxy (10.0.0.0/8): the right-most address that is not a proxy is the client.
    assert await _status(app, "10.0.0.5", headers={"x-forwarded-for": "192.0.2.1, 203.0.113.9"}) == 200
    assert await _status(app, "10.0.0.5", headers={"x-forwarded-for": "203.0.113.9, 192.0.2.1"}) == 403
    assert await _status(app, "10.0.0.5", headers={"x-forwarded-for": "203.0.113.9, 10.0.0.6"}) == 200
    assert await _status(app, "10.0.0.5", headers={"x-forwarded-for": "203.0.113.9, garbage"}) == 403
    assert await _status(app, "10.0.0.5") == 403  # the proxy itself is not in the allowed ranges


# --- email domain ----------------------------------------------------------------------------------------


def _text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def _magic_path(message: Message) -> str:
    found = re.search(r"https?://\S+/login/magic\?token=\S+", _text_of(message))
    assert found is not None
    url = urlsplit(found.group(0))
    return f"{url.path}?{url.query}"


async def test_magic_link_signs_in_an_allowed_domain(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    page_id = await build.page(
        "intranet", title="Intranet", access_type="email-domain", auth_email_domains=["acme.com"]
    )
    assert (await client.get("/intranet")).headers["location"] == "/intranet/login"
    form = await client.get("/intranet/login")
    assert 'type="email"' in form.text
    response = await client.post("/intranet/login", data={"email": "Alice@ACME.com"})
    assert response.status_code == 200
    assert "a sign-in link is on its way" in response.text
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["Alice@acme.com"]
    assert message["Subject"] == "Sign in to Intranet"
    # Built from the configured public URL, not from whatever Host the request named.
    assert "http://status.example.test/intranet/login/magic?token=" in _text_of(message)
    path = _magic_path(message)
    signed_in = await client.get(path)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/intranet"
    assert session_cookie(signed_in, page_id)
    assert (await client.get("/intranet")).status_code == 200


async def test_a_magic_link_returns_to_the_page_asked_for(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    asked = await client.get("/intranet/events")
    assert asked.headers["location"] == "/intranet/login?next=events"
    response = await client.post("/intranet/login", data={"email": "alice@acme.com", "next": "events"})
    assert response.status_code == 200
    signed_in = await client.get(_magic_path(smtp.messages[0][1]))
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/intranet/events"
    # An edited link still cannot leave the page.
    token = urlsplit(_magic_path(smtp.messages[0][1])).query
    outside = await client.get(f"/intranet/login/magic?{token.split('&')[0]}&next=//evil.example/x")
    assert outside.headers["location"] == "/intranet"


async def test_the_sign_in_mail_speaks_the_visitors_locale(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    await build.page(
        "intranet", title="Intranet", access_type="email-domain", auth_email_domains=["acme.com"],
        locales=["en", "fr"],
    )  # fmt: skip
    response = await client.post("/intranet/fr/login", data={"email": "alice@acme.com"})
    assert response.status_code == 200
    _, message = smtp.messages[0]
    assert str(make_header(decode_header(message["Subject"]))) == "Connexion à Intranet"
    assert "Il est valable 15 minutes." in _text_of(message)


async def test_a_forged_host_does_not_get_into_the_mail(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    response = await client.post(
        "/intranet/login", data={"email": "alice@acme.com"}, headers={"host": "evil.example"}
    )
    assert response.status_code == 200
    assert "evil.example" not in _text_of(smtp.messages[0][1])


async def test_a_disallowed_domain_gets_no_mail(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    response = await client.post("/intranet/login", data={"email": "mallory@evil.com"})
    assert response.status_code == 403
    assert "This email domain has no access to this page." in response.text
    bad = await client.post("/intranet/login", data={"email": "<b>not-an-email</b>"})
    assert bad.status_code == 400
    assert "&lt;b&gt;not-an-email&lt;/b&gt;" in bad.text
    assert "<b>not-an-email" not in bad.text
    assert smtp.messages == []


async def test_expired_forged_and_foreign_magic_links_are_refused(
    client: httpx.AsyncClient, build: PageBuilder, app: Any
) -> None:
    page_id = await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    other_id = await build.page("other", access_type="email-domain", auth_email_domains=["acme.com"])
    key = pages_of(app).signing_key
    claims = {"page": page_id, "email": "alice@acme.com"}
    expired = access.sign(key, access.MAGIC, claims, expires_at=time.time() - 1)
    forged = access.sign(b"not the key", access.MAGIC, claims, expires_at=time.time() + 600)
    session_kind = access.sign(key, access.SESSION, claims, expires_at=time.time() + 600)
    foreign = access.sign(key, access.MAGIC, {**claims, "page": other_id}, expires_at=time.time() + 600)
    for token in (expired, forged, session_kind, foreign, "", "garbage"):
        response = await client.get("/intranet/login/magic", params={"token": token})
        assert response.status_code == 401
        assert "This sign-in link has expired" in response.text
        assert "set-cookie" not in response.headers
    good = access.sign(key, access.MAGIC, claims, expires_at=time.time() + 600)
    assert (await client.get("/intranet/login/magic", params={"token": good})).status_code == 303


async def test_magic_link_requests_are_rate_limited(
    client: httpx.AsyncClient, build: PageBuilder, smtp: SmtpReceiver
) -> None:
    await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    for _ in range(access.MAGIC_LINKS_PER_WINDOW):
        assert (await client.post("/intranet/login", data={"email": "alice@acme.com"})).status_code == 200
    assert (await client.post("/intranet/login", data={"email": "alice@acme.com"})).status_code == 429
    assert len(smtp.messages) == access.MAGIC_LINKS_PER_WINDOW


async def test_removing_a_domain_ends_its_sessions(
    client: httpx.AsyncClient, build: PageBuilder, app: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    page_id = await build.page("intranet", access_type="email-domain", auth_email_domains=["acme.com"])
    token = access.sign(
        pages_of(app).signing_key,
        access.MAGIC,
        {"page": page_id, "email": "a@acme.com"},
        expires_at=time.time() + 60,
    )
    await client.get("/intranet/login/magic", params={"token": token})
    assert (await client.get("/intranet")).status_code == 200
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(StatusPage).where(StatusPage.id == page_id).values(auth_email_domains=["other.com"])
        )
    pages_of(app).store.invalidate_page(page_id)
    assert (await client.get("/intranet")).status_code == 303


# --- the pure parts --------------------------------------------------------------------------------------


def test_sign_and_unsign() -> None:
    key = b"k" * 32
    token = access.sign(key, "session", {"page": 1}, expires_at=2000)
    assert access.unsign(key, "session", token, now=1999) == {"page": 1, "exp": 2000}
    assert access.unsign(key, "session", token, now=2000) is None  # expired
    assert access.unsign(key, "magic", token, now=1999) is None  # another purpose
    assert access.unsign(b"x" * 32, "session", token, now=1999) is None
    body, mac = token.split(".")
    assert access.unsign(key, "session", body[:-1] + "A." + mac, now=1999) is None
    assert access.unsign(key, "session", "a.b.c", now=0) is None


def _request(peer: str | None, forwarded: list[str] | None = None) -> Request:
    headers = Headers(raw=[(b"x-forwarded-for", value.encode()) for value in forwarded or []])
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers.raw,
        "client": (peer, 1) if peer else None,
    }
    return Request(scope)


def test_client_ip() -> None:
    trusted = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    ip = ipaddress.ip_address
    assert access.client_ip(_request("192.0.2.1", ["203.0.113.9"]), trusted) == ip("192.0.2.1")
    assert access.client_ip(_request("10.1.1.1", ["198.51.100.1", "203.0.113.9"]), trusted) == ip(
        "203.0.113.9"
    )
    assert access.client_ip(_request("10.1.1.1", ["203.0.113.9, 10.2.2.2"]), trusted) == ip("203.0.113.9")
    assert access.client_ip(_request("fd00::1", ["[2001:db8::5]:443"]), trusted) == ip("2001:db8::5")
    assert access.client_ip(_request("10.1.1.1", ["10.3.3.3, 10.2.2.2"]), trusted) == ip("10.3.3.3")
    assert access.client_ip(_request("10.1.1.1", ["nonsense"]), trusted) is None
    assert access.client_ip(_request(None), trusted) is None
    assert access.client_ip(_request("testclient"), trusted) is None


def test_ip_allowed() -> None:
    ranges = ("10.0.0.0/8", "192.168.1.5", "2001:db8::/32", "bogus")
    assert access.ip_allowed(ipaddress.ip_address("10.9.9.9"), ranges)
    assert access.ip_allowed(ipaddress.ip_address("192.168.1.5"), ranges)
    assert not access.ip_allowed(ipaddress.ip_address("192.168.1.6"), ranges)
    assert not access.ip_allowed(ipaddress.ip_address("2001:db8::1"), ranges)
    assert not access.ip_allowed(None, ranges)


def test_rate_key() -> None:
    ip = ipaddress.ip_address
    assert access.rate_key(ip("203.0.113.9")) == "203.0.113.9"
    assert access.rate_key(ip("2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64"
    assert access.rate_key(ip("2001:db8:1:2::1")) == access.rate_key(ip("2001:db8:1:2:ffff::"))


def test_safe_next() -> None:
    assert access.safe_next("events") == "events"
    assert access.safe_next("events/report/3?x=1") == "events/report/3?x=1"
    for bad in ("//evil", "/events", "https://evil", "\\evil", "a/../b", "login", "events#x", "a b", None):
        assert access.safe_next(bad) == ""


def test_sliding_window() -> None:
    window = access.SlidingWindow(2, 60, max_keys=2)
    assert window.hit("a", now=0) and window.hit("a", now=1)
    assert not window.hit("a", now=2)
    assert window.hit("a", now=60.5)  # the first hit left the window
    window.add("b", now=61)
    window.add("c", now=62)  # full of live keys: the oldest is forgotten
    assert len(window._hits) <= 2
