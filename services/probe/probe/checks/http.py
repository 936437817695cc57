"""HTTP checks on aiohttp: a fresh connection per check, every timing phase, the target policy on every hop.

aiohttp was chosen by measurement (``bench/probe_http.py``, 64 in flight, a new connection per check, on
the two-core machine): this check runs about 3,800 checks/s where httpx with keep-alive off runs about 700,
and aiohttp's connector and ``TraceConfig`` hooks expose every phase.

How the phases are taken (milliseconds, summed over redirect hops; None when a phase never happened):

- ``dns``: ``TraceConfig`` DNS hooks (an IP literal has no DNS phase).
- ``connect`` and ``tls``: ``_GuardedConnector`` times the TCP connect and the TLS handshake separately;
  it is also where the target policy sees the addresses actually connected to, and where the peer
  certificate's ``notAfter`` is read.
- ``ttfb``: from the connection being ready to the response headers (``on_request_redirect`` /
  ``on_request_end``).
- ``transfer``: reading the body (up to ``BODY_LIMIT``) after the headers.

One ``HttpChecker`` holds one ``ClientSession`` for many checks: ``force_close`` gives every request a new
connection and the cookie jar is off, so no connection or cookie carries over from one check to the next.
aiohttp's own DNS cache (which ignores TTLs) is off; names are resolved by c-ares (aiodns), which, like any
caching stub resolver, reuses an answer for its TTL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import errno
import ssl
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import aiohappyeyeballs
import aiohttp
from aiohttp.abc import AbstractResolver

from openstatus_common.messages.checks import CheckTarget, Timing
from probe.checks.attempt import Attempt, elapsed_ms, timeout_message
from probe.checks.guard import TargetPolicy, TargetRefused

USER_AGENT = "openstatus/1.0"
BODY_LIMIT = 1 << 20  # bytes of body kept for assertions; the rest is not read
MAX_REDIRECTS = 10  # redirects followed; the 11th is an error
MAX_HEADERS = 100  # response headers kept (distinct names)
MAX_HEADER_VALUE = 2048  # characters kept of each response header value
_READ_CHUNK = 64 * 1024


class _Recorder:
    """Per-check timing and certificate state, written by the trace hooks and the connector."""

    __slots__ = (
        "connect_ms",
        "dns_ms",
        "dns_started",
        "not_after",
        "policy",
        "ready_at",
        "tls_ms",
        "ttfb_ms",
    )

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy
        self.dns_ms: float | None = None
        self.connect_ms: float | None = None
        self.tls_ms: float | None = None
        self.ttfb_ms: float | None = None
        self.dns_started = 0.0
        self.ready_at: float | None = None
        self.not_after: str | None = None

    def headers_received(self) -> None:
        if self.ready_at is not None:
            self.ttfb_ms = _add(self.ttfb_ms, elapsed_ms(self.ready_at, time.perf_counter()))
            self.ready_at = None

    def timing(self, transfer_ms: float | None) -> Timing:
        return Timing(
            dns_ms=self.dns_ms,
            connect_ms=self.connect_ms,
            tls_ms=self.tls_ms,
            ttfb_ms=self.ttfb_ms,
            transfer_ms=transfer_ms,
        )


# The connector is shared by every check of a session and is not handed the request's trace context,
# so it finds the running check's recorder here (set in the task that runs the check).
_RECORDER: ContextVar[_Recorder | None] = ContextVar("probe_http_recorder", default=None)


def _add(total: float | None, value: float) -> float:
    return round(value if total is None else total + value, 3)


class _GuardedConnector(aiohttp.TCPConnector):
    """Applies the target policy to the resolved addresses and times TCP connect and TLS apart.

    Overrides ``_wrap_create_connection`` (the step from resolved addresses to a connected transport):
    the only place that sees the addresses actually connected to, on every hop. It keeps the original's
    error mapping, so callers see the usual aiohttp exceptions.
    """

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: list[aiohappyeyeballs.AddrInfoType],
        req: aiohttp.ClientRequest,
        timeout: aiohttp.ClientTimeout,
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, aiohttp.client_proto.ResponseHandler]:
        recorder = _RECORDER.get()
        if recorder is not None:
            recorder.policy.check_hostname(req.url.raw_host or "")
            recorder.policy.check_addresses(str(info[4][0]) for info in addr_infos)
        loop = asyncio.get_running_loop()
        try:
            started = time.perf_counter()
            sock = await aiohappyeyeballs.start_connection(
                addr_infos=addr_infos, happy_eyeballs_delay=0.25, loop=loop
            )
            connected = time.perf_counter()
            transport, protocol = await loop.create_connection(*args, **kwargs, sock=sock)
            ready = time.perf_counter()
        except ssl.CertificateError as exc:
            raise aiohttp.ClientConnectorCertificateError(req.connection_key, exc) from exc
        except ssl.SSLError as exc:
            raise aiohttp.ClientConnectorSSLError(req.connection_key, exc) from exc
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise client_error(req.connection_key, exc) from exc
        if recorder is not None:
            recorder.connect_ms = _add(recorder.connect_ms, elapsed_ms(started, connected))
            if kwargs.get("ssl"):
                recorder.tls_ms = _add(recorder.tls_ms, elapsed_ms(connected, ready))
                peercert = transport.get_extra_info("peercert")
                if isinstance(peercert, dict) and isinstance(peercert.get("notAfter"), str):
                    recorder.not_after = peercert["notAfter"]
            recorder.ready_at = ready
        return transport, protocol


async def _on_dns_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: object) -> None:
    recorder = ctx.trace_request_ctx
    if isinstance(recorder, _Recorder):
        recorder.dns_started = time.perf_counter()


async def _on_dns_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: object) -> None:
    recorder = ctx.trace_request_ctx
    if isinstance(recorder, _Recorder):
        recorder.dns_ms = _add(recorder.dns_ms, elapsed_ms(recorder.dns_started, time.perf_counter()))


async def _on_headers(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: object) -> None:
    recorder = ctx.trace_request_ctx
    if isinstance(recorder, _Recorder):
        recorder.headers_received()


def _trace_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()
    config.on_dns_resolvehost_start.append(_on_dns_start)
    config.on_dns_resolvehost_end.append(_on_dns_end)
    config.on_request_redirect.append(_on_headers)
    config.on_request_end.append(_on_headers)
    return config


_DEFAULT_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def default_ssl_context() -> ssl.SSLContext:
    """A verifying client context on the default trust store, built once per trust-store location.

    Loading a CA bundle takes milliseconds, so contexts are shared; the key is where OpenSSL looks
    (``SSL_CERT_FILE``/``SSL_CERT_DIR`` or the system paths), so pointing those elsewhere gets a new one.
    """
    paths = ssl.get_default_verify_paths()
    key = (paths.cafile, paths.capath)
    context = _DEFAULT_CONTEXTS.get(key)
    if context is None:
        context = _DEFAULT_CONTEXTS[key] = ssl.create_default_context()
    return context


class HttpChecker:
    """Runs HTTP checks; one per probe (or per test), closed with ``close()``.

    ``ssl_context`` defaults to ``default_ssl_context()``: the system trust store, verification on,
    honouring ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as they are at the first check.
    """

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        ssl_context: ssl.SSLContext | None = None,
        resolver: AbstractResolver | None = None,
        body_limit: int = BODY_LIMIT,
    ) -> None:
        self.policy = policy
        self._ssl_context = ssl_context
        self._resolver = resolver
        self._body_limit = body_limit
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if self._ssl_context is None:
                self._ssl_context = default_ssl_context()
            connector = _GuardedConnector(
                force_close=True,  # a fresh connection for every request: nothing pooled across checks
                use_dns_cache=False,  # aiohttp's cache ignores TTLs; c-ares honours them
                limit=0,  # concurrency is bounded by the probe, not here
                ssl=self._ssl_context,
                # None: aiohttp's default, the c-ares (aiodns) resolver, owned and closed by the connector.
                resolver=self._resolver,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[_trace_config()],
                timeout=aiohttp.ClientTimeout(total=None),  # the check's own deadline applies
                auto_decompress=True,
            )
            # aiohttp silently re-sends an idempotent request once when the server drops the connection;
            # a monitor must see that failure instead (aiohttp's own test client turns it off the same way).
            session._retry_connection = False
            self._session = session
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check(self, target: CheckTarget) -> Attempt:
        """One attempt, bounded by ``target.timeout_ms``; transport problems come back as ``error``."""
        recorder = _Recorder(self.policy)
        started = time.perf_counter()
        transfer_ms: float | None = None
        token = _RECORDER.set(recorder)
        try:
            request = _build_request(target)
            async with asyncio.timeout(target.timeout_ms / 1000):
                self.policy.check_hostname(_url_host(target.url))
                async with self._get_session().request(
                    request.method,
                    target.url,
                    headers=request.headers,
                    data=request.body,
                    skip_auto_headers=request.skip,
                    allow_redirects=target.follow_redirects,
                    max_redirects=MAX_REDIRECTS + 1,
                    trace_request_ctx=recorder,
                ) as response:
                    recorder.headers_received()
                    headers_at = time.perf_counter()
                    raw = await _read_capped(response, self._body_limit)
                    transfer_ms = elapsed_ms(headers_at, time.perf_counter())
                    body = _decode(raw, response)
                    status = response.status
                    headers = _response_headers(response.headers)
        except TimeoutError:
            return _failed(recorder, started, transfer_ms, timeout_message(target.timeout_ms))
        except (aiohttp.ClientError, OSError, ValueError, TargetRefused) as exc:
            return _failed(recorder, started, transfer_ms, describe_error(exc))
        finally:
            _RECORDER.reset(token)
        return Attempt(
            latency_ms=elapsed_ms(started, time.perf_counter()),
            timing=recorder.timing(transfer_ms),
            status_code=status,
            response_headers=headers,
            body=body,
            certificate_expires_at=_not_after(recorder.not_after),
        )


class _Request:
    __slots__ = ("body", "headers", "method", "skip")

    def __init__(
        self, method: str, headers: list[tuple[str, str]], body: bytes | None, skip: set[str]
    ) -> None:
        self.method = method
        self.headers = headers
        self.body = body
        self.skip = skip


def _build_request(target: CheckTarget) -> _Request:
    headers = [(h.key, h.value) for h in target.headers]
    names = {key.lower() for key, _ in headers}
    if "user-agent" not in names:
        headers.append(("User-Agent", USER_AGENT))
    body: bytes | None = None
    if target.body:
        body, content_type = decode_body(target.body)
        if content_type and "content-type" not in names:
            headers.append(("Content-Type", content_type))
            names.add("content-type")
    # Like Go's net/http (upstream's prober), send no Content-Type the monitor did not ask for.
    skip = set() if "content-type" in names else {"Content-Type"}
    return _Request(target.method.value, headers, body, skip)


def decode_body(body: str) -> tuple[bytes, str | None]:
    """A ``data:<mime>[;base64],<data>`` body becomes its bytes and media type; other text is UTF-8.

    Raises ValueError for a malformed data URI (reported as the check's error).
    """
    if not body.startswith("data:"):
        return body.encode(), None
    header, sep, payload = body[5:].partition(",")
    if not sep:
        raise ValueError("invalid data: URI body (no comma)")
    params = header.split(";")
    is_base64 = params[-1].strip().lower() == "base64"
    if is_base64:
        params = params[:-1]
    media_type = ";".join(p.strip() for p in params if p.strip()) or None
    if is_base64:
        try:
            data = base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"invalid data: URI body (bad base64: {exc})") from None
    else:
        data = unquote_to_bytes(payload)
    return data, media_type or "text/plain;charset=US-ASCII"


def _url_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(min(_READ_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, response: aiohttp.ClientResponse) -> str:
    charset = response.charset or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names, repeated headers joined with ", ", at most MAX_HEADERS names kept."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in result:
            result[key] = f"{result[key]}, {value}"[:MAX_HEADER_VALUE]
        elif len(result) < MAX_HEADERS:
            result[key] = value[:MAX_HEADER_VALUE]
    return result


def _not_after(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(value), UTC)
    except ValueError:
        return None


def _failed(recorder: _Recorder, started: float, transfer_ms: float | None, error: str) -> Attempt:
    return Attempt(
        latency_ms=elapsed_ms(started, time.perf_counter()),
        timing=recorder.timing(transfer_ms),
        error=error,
        certificate_expires_at=_not_after(recorder.not_after),
    )


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong, in the words an on-call person would use."""
    if isinstance(exc, TargetRefused):
        return str(exc)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        reason = getattr(cert_error, "verify_message", None) or str(cert_error)
        return f"TLS certificate verification failed: {reason}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return f"TLS handshake failed: {getattr(exc.os_error, 'reason', None) or exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed for {exc.host}: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "connection refused"
        return f"connection to {exc.host}:{exc.port} failed: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection without a response"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects (more than {MAX_REDIRECTS})"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL {exc.url}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"malformed response body: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed response: {exc.message}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"connection error: {exc.strerror}"
    return str(exc) or type(exc).__name__
