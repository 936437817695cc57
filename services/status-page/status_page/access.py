"""Who may see a page: public, password, email domain (magic link) or IP restriction.

``check_access`` runs before every gated route. A password or email-domain page is opened by a session cookie
(``os_page_<page id>``) that the login flow sets; a password page also by ``?pw=<password>`` (the share link,
also how private RSS feeds authenticate). An ip-restriction page looks only at the client's address, taken
from the TCP peer, or from ``X-Forwarded-For`` when (and only when) the peer is a configured trusted proxy.

Sessions and magic links are signed tokens (HMAC-SHA256 with the deployment's key): ``<payload>.<mac>``, both
unpadded URL-safe base64, the payload a small JSON object with its expiry ``exp`` (Unix seconds). The MAC
covers a purpose (``session`` or ``magic``) so one kind can never stand in for the other. A password session
holds a keyed fingerprint of the page's password hash, so changing the password signs everybody out; an
email session holds the address, so removing its domain from the page does too.

Also here, shared by the login and subscribe views: the client address, in-memory sliding-window rate
limits, the same-origin check for form posts and a small urlencoded form reader.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import time
from collections import deque
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openstatus_common.pages.passwords import verify_password
from openstatus_common.pages.snapshot import PageConfig
from openstatus_common.pages.subscribers import email_domain_allowed
from status_page.context import PageRequest
from status_page.views.common import plain_html

log = structlog.get_logger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

COOKIE_PREFIX = "os_page_"
SESSION_SECONDS = 7 * 24 * 3600
MAGIC_LINK_SECONDS = 15 * 60
SESSION = "session"
MAGIC = "magic"
MAX_TOKEN_CHARS = 2048

RATE_WINDOW_SECONDS = 60.0
LOGIN_FAILURES_PER_WINDOW = 5
MAGIC_LINKS_PER_WINDOW = 5
SUBSCRIBES_PER_WINDOW = 10
RATE_LIMIT_KEYS = 10_000

# Pages whose address carries a secret (confirm, unsubscribe and sign-in links): the address never goes to
# another site as a referrer. Not "no-referrer": with it, browsers send ``Origin: null`` on the page's own
# forms, which the same-origin check must refuse, so their buttons would never work.
SECRET_URL_HEADERS = {"Referrer-Policy": "same-origin"}

# Routes a ``?pw=`` link opens directly, without the redirect that turns it into a cookie (feed readers).
DIRECT_PREFIXES = ("feed/",)
# Routes read by programs (feed readers, badge images, Statuspage clients): refused with a 401 they can
# understand, never the HTML login page.
MACHINE_PREFIXES = ("feed/", "badge", "api/")
FORM_LIMIT_BYTES = 8 * 1024
FORM_MAX_FIELDS = 16
_NEXT = re.compile(r"^[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*(?:\?[A-Za-z0-9._~%=&+,-]*)?$")
_VERIFIED_CACHE_SECONDS = 600.0
_VERIFIED_CACHE_SIZE = 1024


# --- signed tokens ---------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> bytes:
    return hmac.new(key, f"openstatus-page:{purpose}:{body}".encode(), hashlib.sha256).digest()


def sign(key: bytes, purpose: str, payload: Mapping[str, Any], *, expires_at: float) -> str:
    """``payload`` with its expiry, signed for ``purpose``: ``<base64 JSON>.<base64 HMAC-SHA256>``."""
    data = {**payload, "exp": int(expires_at)}
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(key, purpose, body))}"


def unsign(key: bytes, purpose: str, token: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The payload of a token signed for ``purpose`` and not expired; None for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    body, _, mac = token.partition(".")
    try:
        given = _unb64(mac)
    except (ValueError, binascii.Error):
        return None
    if not hmac.compare_digest(given, _mac(key, purpose, body)):
        return None
    try:
        data = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict):
        return None
    expires = data.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        return None
    if expires <= (time.time() if now is None else now):
        return None
    return data


# --- sessions and magic links ----------------------------------------------------------------------------


def cookie_name(page_id: int) -> str:
    return f"{COOKIE_PREFIX}{page_id}"


def password_fingerprint(key: bytes, password_hash: str) -> str:
    """Names the page's current password without revealing anything about it."""
    return _b64(hmac.new(key, b"password-hash:" + password_hash.encode(), hashlib.sha256).digest()[:12])


def email_allowed(page: PageConfig, email: str) -> bool:
    """Whether the address's domain is one of the page's (exact match, case-insensitive)."""
    return email_domain_allowed(email, page.auth_email_domains)


def session_token(key: bytes, page: PageConfig, *, email: str | None = None, now: float | None = None) -> str:
    """A session for the page as it is configured now (password, or the email it was granted to)."""
    payload: dict[str, Any] = {"page": page.id, "kind": page.access_type}
    if page.access_type == "password":
        if not page.password_hash:
            raise ValueError("the page has no password")
        payload["fp"] = password_fingerprint(key, page.password_hash)
    elif page.access_type == "email-domain":
        if email is None:
            raise ValueError("an email session needs the email")
        payload["email"] = email
    else:
        raise ValueError(f"no sessions for access type {page.access_type!r}")
    return sign(key, SESSION, payload, expires_at=(time.time() if now is None else now) + SESSION_SECONDS)


def session_valid(key: bytes, page: PageConfig, token: str | None, *, now: float | None = None) -> bool:
    if not token:
        return False
    data = unsign(key, SESSION, token, now=now)
    if data is None or data.get("page") != page.id or data.get("kind") != page.access_type:
        return False
    if page.access_type == "password":
        return bool(page.password_hash) and hmac.compare_digest(
            str(data.get("fp", "")), password_fingerprint(key, page.password_hash or "")
        )
    if page.access_type == "email-domain":
        email = data.get("email")
        return isinstance(email, str) and email_allowed(page, email)
    return False


def magic_token(key: bytes, page: PageConfig, email: str, *, now: float | None = None) -> str:
    expires = (time.time() if now is None else now) + MAGIC_LINK_SECONDS
    return sign(key, MAGIC, {"page": page.id, "email": email}, expires_at=expires)


def magic_email(key: bytes, page: PageConfig, token: str, *, now: float | None = None) -> str | None:
    """The address a valid, unexpired magic link for this page was sent to; None otherwise."""
    if page.access_type != "email-domain":
        return None
    data = unsign(key, MAGIC, token, now=now)
    if data is None or data.get("page") != page.id:
        return None
    email = data.get("email")
    return email if isinstance(email, str) and email_allowed(page, email) else None


def has_session(pr: PageRequest) -> bool:
    page = pr.snapshot.page
    return session_valid(pr.pages.signing_key, page, pr.request.cookies.get(cookie_name(page.id)))


def is_https(pr: PageRequest) -> bool:
    if pr.request.url.scheme == "https":
        return True
    forwarded = pr.request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and _peer_trusted(pr.request, pr.pages.settings.trusted_proxy_networks)


def cookie_path(pr: PageRequest) -> str:
    return pr.prefix or "/"


def set_session(pr: PageRequest, response: Response, *, email: str | None = None) -> None:
    page = pr.snapshot.page
    response.set_cookie(
        cookie_name(page.id),
        session_token(pr.pages.signing_key, page, email=email),
        max_age=SESSION_SECONDS,
        path=cookie_path(pr),
        secure=is_https(pr),
        httponly=True,
        samesite="lax",
    )


def clear_session(pr: PageRequest, response: Response) -> None:
    response.delete_cookie(
        cookie_name(pr.page_id), path=cookie_path(pr), secure=is_https(pr), httponly=True, samesite="lax"
    )


# --- the client's address --------------------------------------------------------------------------------


def parse_ip(value: str) -> IPAddress | None:
    """An address from a peer or X-Forwarded-For entry (``[v6]:port`` and ``v4:port`` tolerated); IPv4-mapped
    IPv6 addresses become IPv4."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _peer(request: Request) -> IPAddress | None:
    return parse_ip(request.client.host) if request.client is not None else None


def _in(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def _peer_trusted(request: Request, trusted: Sequence[IPNetwork]) -> bool:
    peer = _peer(request)
    return peer is not None and _in(peer, trusted)


def client_ip(request: Request, trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """The visitor's address: the TCP peer, unless the peer is a trusted proxy; then the right-most
    X-Forwarded-For entry that is not itself a trusted proxy (the left-most when all are). None when unknown:
    no peer, or a forwarded entry that is not an address."""
    peer = _peer(request)
    if peer is None or not _in(peer, trusted):
        return peer
    entries = [
        e for header in request.headers.getlist("x-forwarded-for") for e in header.split(",") if e.strip()
    ]
    client = peer
    for entry in reversed(entries):
        address = parse_ip(entry)
        if address is None:
            return None
        client = address
        if not _in(address, trusted):
            return address
    return client


@lru_cache(maxsize=512)
def allowed_networks(ranges: tuple[str, ...]) -> tuple[ipaddress.IPv4Network, ...]:
    """The page's IPv4 ranges (a bare address is a /32); IPv6 and malformed entries are ignored."""
    networks = []
    for item in ranges:
        try:
            network = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            networks.append(network)
    return tuple(networks)


def ip_allowed(address: IPAddress | None, ranges: tuple[str, ...]) -> bool:
    if not isinstance(address, ipaddress.IPv4Address):
        return False  # unknown, or IPv6: IPv4 only, as the spec says
    return any(address in network for network in allowed_networks(ranges))


IPV6_CLIENT_PREFIX = 64


def rate_key(address: IPAddress) -> str:
    """What one client is for rate limits: an IPv4 address, or an IPv6 address's /64 (a single customer is
    usually given a whole /64, so counting single addresses would give one client 2^64 budgets)."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def visitor(pr: PageRequest) -> str:
    """The key rate limits count by: the client (``rate_key``), or the raw peer when it is unknown."""
    address = client_ip(pr.request, pr.pages.settings.trusted_proxy_networks)
    if address is not None:
        return rate_key(address)
    return pr.request.client.host if pr.request.client is not None else "unknown"


# --- rate limits -----------------------------------------------------------------------------------------


class SlidingWindow:
    """At most ``limit`` hits per key within ``window`` seconds, in this process's memory."""

    def __init__(self, limit: int, window: float = RATE_WINDOW_SECONDS, *, max_keys: int = RATE_LIMIT_KEYS):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def blocked(self, key: str, *, now: float | None = None) -> bool:
        hits = self._recent(key, time.monotonic() if now is None else now)
        return hits is not None and len(hits) >= self.limit

    def add(self, key: str, *, now: float | None = None) -> None:
        at = time.monotonic() if now is None else now
        hits = self._recent(key, at)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._prune(at)
            hits = self._hits[key] = deque()
        hits.append(at)

    def hit(self, key: str, *, now: float | None = None) -> bool:
        """Count a hit unless the key is at its limit; False when it is (the request should be refused)."""
        at = time.monotonic() if now is None else now
        if self.blocked(key, now=at):
            return False
        self.add(key, now=at)
        return True

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._hits):
            self._recent(key, now)
        while len(self._hits) >= self.max_keys:  # still full of live keys: forget the oldest
            del self._hits[next(iter(self._hits))]


def limiter(pr: PageRequest, name: str, limit: int) -> SlidingWindow:
    """The service-wide limiter ``name`` (kept on ``pages.extra``)."""
    key = f"access.limit.{name}"
    found = pr.pages.extra.get(key)
    if not isinstance(found, SlidingWindow):
        found = pr.pages.extra[key] = SlidingWindow(limit)
    return found


def login_failures(pr: PageRequest) -> SlidingWindow:
    return limiter(pr, "login", LOGIN_FAILURES_PER_WINDOW)


async def check_password(pr: PageRequest, password: str) -> bool | None:
    """Try a password for the page under the per-client limit: True or False, None when the client is at its
    limit (nothing was checked).

    The attempt is counted before the (slow) check and forgotten when it succeeds: counting only failures,
    after the check, would let many concurrent guesses all pass the limit while their checks run.
    """
    key = f"{pr.page_id}:{visitor(pr)}"
    attempts = login_failures(pr)
    if not attempts.hit(key):
        return None
    if not await verify_page_password(pr, password):
        return False
    attempts.reset(key)
    return True


# --- forms -----------------------------------------------------------------------------------------------


def same_origin(request: Request) -> bool:
    """False when the post names another site in ``Origin`` (or, without it, ``Referer``); absent is fine."""
    host = request.headers.get("host", "").strip().lower()
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null":
            return False
        return urlsplit(origin.strip()).netloc.lower() == host
    referer = request.headers.get("referer")
    if referer:
        return urlsplit(referer.strip()).netloc.lower() == host
    return True


def require_same_origin(request: Request) -> None:
    if not same_origin(request):
        raise HTTPException(403, "Cross-site form submissions are not accepted.")


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (small; the first value of each field)."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise HTTPException(415, "Unsupported form encoding.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_LIMIT_BYTES:
        raise HTTPException(413, "Form too large.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT_BYTES:
            raise HTTPException(413, "Form too large.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=FORM_MAX_FIELDS
        )
    except ValueError:
        raise HTTPException(400, "Malformed form.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def safe_next(value: str | None) -> str:
    """A route inside this page to return to after signing in (``events``, ``events?x=1``); "" for the page
    root and for anything that could leave the page (absolute URLs, ``//host``, backslashes, ``..``)."""
    if not value or len(value) > 512 or not _NEXT.match(value):
        return ""
    path = value.partition("?")[0]
    if any(part in (".", "..") for part in path.split("/")) or path.split("/")[0] == "login":
        return ""
    return value


def _current_next(pr: PageRequest) -> str:
    """Where to come back to after signing in: this route, for a GET (a form post cannot be replayed)."""
    if pr.request.method not in ("GET", "HEAD"):
        return ""
    query = [(k, v) for k, v in parse_qsl(pr.request.url.query, keep_blank_values=True) if k != "pw"]
    return safe_next(pr.path + ("?" + urlencode(query) if query else "")) if pr.path or query else ""


def _denied(pr: PageRequest) -> Response:
    """A visitor without access: browsers go to the login page, programs get a 401."""
    if not pr.path.startswith(MACHINE_PREFIXES):
        return login_redirect(pr)
    how = " Add ?pw=<password> to the address." if pr.snapshot.page.access_type == "password" else ""
    return Response(
        f"This status page is private.{how}\n",
        status_code=401,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def login_redirect(pr: PageRequest) -> Response:
    target = pr.url("login")
    following = _current_next(pr)
    if following:
        target += "?" + urlencode({"next": following})
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


# --- the gate --------------------------------------------------------------------------------------------


def restricted(pr: PageRequest) -> Response:
    return plain_html(pr, "restricted.html", status_code=403)


def too_many(pr: PageRequest, template: str = "login.html", **values: Any) -> Response:
    response = plain_html(pr, template, status_code=429, error=pr.t("login.too_many"), **values)
    response.headers["Retry-After"] = str(int(RATE_WINDOW_SECONDS))
    return response


def _verified_cache(pr: PageRequest) -> dict[str, float]:
    found = pr.pages.extra.get("access.verified")
    if not isinstance(found, dict):
        found = pr.pages.extra["access.verified"] = {}
    return found


async def verify_page_password(pr: PageRequest, password: str) -> bool:
    """Check a password against the page's hash (scrypt, in a thread), remembering recent successes for a
    few minutes under a keyed digest so feed readers polling with ``?pw=`` do not pay scrypt each time."""
    stored = pr.snapshot.page.password_hash
    if not stored or not password:
        return False
    digest = _b64(hmac.new(pr.pages.signing_key, f"{stored}\x00{password}".encode(), hashlib.sha256).digest())
    cache = _verified_cache(pr)
    now = time.monotonic()
    if cache.get(digest, 0.0) > now:
        return True
    if not await asyncio.to_thread(verify_password, password, stored):
        return False
    if len(cache) >= _VERIFIED_CACHE_SIZE:
        for key in [k for k, until in cache.items() if until <= now] or list(cache)[: len(cache) // 2]:
            cache.pop(key, None)
    cache[digest] = now + _VERIFIED_CACHE_SECONDS
    return True


async def _share_link(pr: PageRequest, password: str) -> Response | None:
    """``?pw=``: None to let the request through, or the response that stands in for it."""
    verified = await check_password(pr, password)
    if verified is None:
        return too_many(pr, mode="password", next=_current_next(pr))
    if not verified:
        log.info("page.share_link_refused", page_id=pr.page_id)
        return _denied(pr)
    accepts_html = "text/html" in pr.request.headers.get("accept", "")
    direct = pr.path.startswith(DIRECT_PREFIXES) or pr.embed.enabled or not accepts_html
    if direct or pr.request.method not in ("GET", "HEAD"):
        return None
    # A browser: trade the password in the address bar for a session cookie.
    query = [(k, v) for k, v in parse_qsl(pr.request.url.query, keep_blank_values=True) if k != "pw"]
    target = pr.url(pr.path) + ("?" + urlencode(query) if query else "")
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    set_session(pr, response)
    return response


async def check_access(pr: PageRequest) -> Response | None:
    """None when the visitor may see the page; otherwise the response that stands in for it."""
    page = pr.snapshot.page
    kind = page.access_type
    if kind == "public":
        return None
    if kind == "ip-restriction":
        address = client_ip(pr.request, pr.pages.settings.trusted_proxy_networks)
        return None if ip_allowed(address, page.allowed_ip_ranges) else restricted(pr)
    if kind not in ("password", "email-domain"):
        log.warning("page.unknown_access_type", page_id=page.id, access_type=kind)
        return restricted(pr)
    if has_session(pr):
        return None
    if kind == "password" and "pw" in pr.request.query_params:
        return await _share_link(pr, pr.request.query_params["pw"])
    return _denied(pr)
