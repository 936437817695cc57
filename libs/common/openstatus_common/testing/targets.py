"""Local check targets for probe tests: an HTTP(S) server, a DNS server and a TCP listener.

Each runs outside the test's event loop (a thread with its own loop, or dnslib's threads), so a target
that answers slowly never blocks the test. All listen on 127.0.0.1 on free ports.

HTTP behaviour is chosen by the request path:

=====================  ==========================================================================
``/status/<code>``     answers with that status
``/slow/<ms>``         waits, then answers 200 ``slow``
``/drop``              closes the connection without a response
``/body/<text>``       answers 200 with ``<text>`` (percent-decoded) as a text/plain body
``/bytes/<n>``         answers 200 with ``n`` bytes of ``x``
``/headers?k=v&...``   answers 200 with those response headers
``/redirect/<n>``      redirects (302) to ``/redirect/<n-1>``; ``/redirect/0`` answers 200 ``redirected``
``/redirect-to?url=``  redirects (302) to ``url``
``/echo``              answers JSON: ``method``, ``path``, ``headers`` (pairs), ``body_base64``
anything else          answers 200 ``ok``
=====================  ==========================================================================

Every response closes its connection. ``.requests`` lists ``(method, path)`` in arrival order.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import socket
import tempfile
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

T = TypeVar("T")

# The leaf certificate of ``HttpTarget.tls_url`` expires at this instant (tests assert on it).
CERT_NOT_AFTER = dt.datetime(2049, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


class _LoopThread:
    """An event loop running in a daemon thread; coroutines are submitted from any other thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (a DNS server listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


def closed_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening (connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- HTTP ------------------------------------------------------------------------------------------


class HttpTarget:
    """HTTP on ``.url`` and HTTPS on ``.tls_url`` (certificate for 127.0.0.1/localhost/::1 signed by a
    test CA whose PEM is at ``.ca_path``: point ``SSL_CERT_FILE`` at it)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.switches: dict[str, int] = {}
        self.url = ""
        self.tls_url = ""
        self.ca_path = Path()
        self._dir = tempfile.TemporaryDirectory(prefix="openstatus-http-target-")
        self._loop: _LoopThread | None = None
        self._servers: list[asyncio.Server] = []

    def start(self) -> HttpTarget:
        import ssl

        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost", "::1", not_after=CERT_NOT_AFTER)
        self.ca_path = Path(self._dir.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(server_context)

        self._loop = _LoopThread("http-target")

        async def listen() -> tuple[int, int]:
            plain = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            tls = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=server_context, backlog=1024)
            self._servers = [plain, tls]
            return plain.sockets[0].getsockname()[1], tls.sockets[0].getsockname()[1]

        port, tls_port = self._loop.run(listen())
        self.url = f"http://127.0.0.1:{port}"
        self.tls_url = f"https://127.0.0.1:{tls_port}"
        self.tls_port = tls_port
        return self

    def stop(self) -> None:
        if self._loop is not None:

            async def close() -> None:
                for server in self._servers:
                    server.close()

            self._loop.run(close())
            self._loop.stop()
            self._loop = None
        self._dir.cleanup()

    def reset(self) -> None:
        self.requests.clear()
        self.switches.clear()

    def set_switch(self, name: str, status: int) -> None:
        """``/switch/<name>`` answers ``status`` from now on (200 until set)."""
        self.switches[name] = status

    def count(self, path: str) -> int:
        """Requests received whose path (without the query) is ``path``."""
        return sum(1 for _, p in self.requests if p.split("?", 1)[0] == path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            method, target, headers, body = request
            self.requests.append((method, target))
            response = await self._respond(method, target, headers, body)
            if response is None:  # /drop
                return
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            # Stopping the target cancels handlers still waiting (``/slow``); end quietly instead of
            # leaving asyncio's stream callback a cancelled task to complain about.
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> bytes | None:
        parts = urlsplit(target)
        path = parts.path
        query = parse_qsl(parts.query, keep_blank_values=True)
        segments = path.strip("/").split("/", 1)
        head, arg = segments[0], (segments[1] if len(segments) > 1 else "")
        if head == "switch" and arg:
            # A status the test flips at will (``set_switch``): a target that goes down and comes back.
            return _response(self.switches.get(arg, 200), f"switch {arg}".encode(), method=method)
        if head == "status" and arg.isdigit():
            return _response(int(arg), f"status {arg}".encode(), method=method)
        if head == "slow" and arg.isdigit():
            await asyncio.sleep(int(arg) / 1000)
            return _response(200, b"slow", method=method)
        if head == "drop":
            return None
        if head == "body":
            return _response(200, unquote(arg).encode(), method=method)
        if head == "bytes" and arg.isdigit():
            return _response(200, b"x" * int(arg), method=method)
        if head == "headers":
            return _response(200, b"headers", query, method=method)
        if head == "redirect" and arg.isdigit():
            n = int(arg)
            if n == 0:
                return _response(200, b"redirected", method=method)
            return _response(302, b"", [("Location", f"/redirect/{n - 1}")], method=method)
        if head == "redirect-to":
            return _response(302, b"", [("Location", dict(query).get("url", "/"))], method=method)
        if head == "echo":
            payload = {
                "method": method,
                "path": target,
                "headers": headers,
                "body_base64": base64.b64encode(body).decode(),
            }
            return _response(
                200, json.dumps(payload).encode(), [("Content-Type", "application/json")], method=method
            )
        return _response(200, b"ok", method=method)


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    lowered = {name.lower(): value for name, value in headers}
    body = b""
    if lowered.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in lowered:
        body = await reader.readexactly(int(lowered["content-length"]))
    return method, target, headers, body


def _response(
    status: int, body: bytes, headers: list[tuple[str, str]] | None = None, *, method: str = "GET"
) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    all_headers = list(headers or [])
    if not any(name.lower() == "content-type" for name, _ in all_headers):
        all_headers.insert(0, ("Content-Type", "text/plain; charset=utf-8"))
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in all_headers]
    if status < 200 or status in (204, 304):  # these never carry a body
        body = b""
    else:
        lines.append(f"Content-Length: {len(body)}")
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + (b"" if method == "HEAD" else body)


# --- DNS -------------------------------------------------------------------------------------------

ZONE = """
example.test.        60 IN A     192.0.2.10
example.test.        60 IN A     192.0.2.11
example.test.        60 IN AAAA  2001:db8::10
example.test.        60 IN MX    10 mail.example.test.
example.test.        60 IN MX    20 backup.example.test.
example.test.        60 IN NS    ns1.example.test.
example.test.        60 IN NS    ns2.example.test.
example.test.        60 IN TXT   "v=spf1 -all"
example.test.        60 IN TXT   "hello " "world"
www.example.test.    60 IN CNAME example.test.
mail.example.test.   60 IN A     192.0.2.25
"""


class DnsTarget:
    """dnslib servers (UDP and TCP, one port) for ``ZONE``; ``.nameserver`` is ``127.0.0.1:<port>``.

    Unlike dnslib's ZoneResolver it answers as a real authoritative server would: a name that exists
    without records of the asked type is NOERROR with no answer (not NXDOMAIN), and a CNAME is followed
    inside the zone. ``.queries`` lists ``(name, type)`` as received.
    """

    def __init__(self, zone: str = ZONE) -> None:
        self.zone = zone
        self.records: list[Any] = []
        self.queries: list[tuple[str, str]] = []
        self.port = 0
        self.nameserver = ""
        self._servers: list[Any] = []

    def start(self) -> DnsTarget:
        from dnslib.server import DNSLogger, DNSServer

        self.reset()
        resolver = _make_zone_resolver(self.records, self.queries)
        logger = DNSLogger(logf=lambda _message: None)
        self.port = free_udp_tcp_port()
        for tcp in (False, True):
            server = DNSServer(resolver, address="127.0.0.1", port=self.port, tcp=tcp, logger=logger)
            server.start_thread()
            self._servers.append(server)
        self.nameserver = f"127.0.0.1:{self.port}"
        return self

    def publish(self, zone: str) -> None:
        """Serve the records of ``zone`` (zone-file lines) too, from the next query on."""
        from dnslib import RR

        self.records.extend(RR.fromZone(zone))

    def reset(self) -> None:
        """Serve only the original zone again."""
        from dnslib import RR

        self.records[:] = RR.fromZone(self.zone)

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers.clear()


def _make_zone_resolver(records: list[Any], log: list[tuple[str, str]]) -> Any:
    """Answers from ``records``, which the target may extend while it runs."""
    from dnslib import QTYPE, RCODE
    from dnslib.server import BaseResolver

    class _AuthoritativeZone(BaseResolver):  # type: ignore[misc]
        def resolve(self, request: Any, handler: Any) -> Any:
            reply = request.reply()
            qname, qtype = request.q.qname, request.q.qtype
            log.append((str(qname).rstrip("."), QTYPE[qtype]))
            name, seen = qname, 0
            while seen < 8:
                seen += 1
                matches = [rr for rr in records if rr.rname == name]
                cnames = [rr for rr in matches if rr.rtype == QTYPE.CNAME]
                if cnames and qtype != QTYPE.CNAME:
                    reply.add_answer(cnames[0])
                    name = cnames[0].rdata.label
                    continue
                for rr in matches:
                    if rr.rtype == qtype:
                        reply.add_answer(rr)
                if not matches and seen == 1:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            return reply

    return _AuthoritativeZone()


# --- TCP -------------------------------------------------------------------------------------------


class TcpTarget:
    """A listener on 127.0.0.1 that accepts each connection and closes it; ``.accepted`` counts them."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0
        self._loop: _LoopThread | None = None
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpTarget:
        self._loop = _LoopThread("tcp-target")

        async def listen() -> int:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            return int(self._server.sockets[0].getsockname()[1])

        self.port = self._loop.run(listen())
        return self

    async def _handle(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def stop(self) -> None:
        if self._loop is not None:
            server = self._server

            async def close() -> None:
                if server is not None:
                    server.close()

            self._loop.run(close())
            self._loop.stop()
            self._loop = None
