"""TCP checks: resolve ``host:port``, apply the target policy, connect (timed), close."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from openstatus_common.messages.checks import CheckTarget, Timing
from probe.checks.attempt import Attempt, elapsed_ms, timeout_message
from probe.checks.guard import TargetPolicy, TargetRefused, is_ip_literal


def parse_host_port(url: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``tcp://host:port`` -> (host, port); ValueError otherwise."""
    text = url.strip()
    if "://" not in text:
        text = f"tcp://{text}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"invalid TCP target {url!r} (expected host:port)") from None
    if not host or port is None:
        raise ValueError(f"invalid TCP target {url!r} (expected host:port)")
    return host, port


async def check_tcp(target: CheckTarget, policy: TargetPolicy) -> Attempt:
    """One connection attempt to ``target.url`` bounded by ``target.timeout_ms``; the socket is closed."""
    started = time.perf_counter()
    dns_ms: float | None = None
    connect_ms: float | None = None

    def attempt(error: str | None = None) -> Attempt:
        return Attempt(
            latency_ms=elapsed_ms(started, time.perf_counter()),
            timing=Timing(dns_ms=dns_ms, connect_ms=connect_ms),
            error=error,
        )

    try:
        host, port = parse_host_port(target.url)
        policy.check_hostname(host)
    except (ValueError, TargetRefused) as exc:
        return attempt(str(exc))
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(target.timeout_ms / 1000):
            if is_ip_literal(host):
                infos = await loop.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
                )
            else:
                resolving = time.perf_counter()
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                dns_ms = elapsed_ms(resolving, time.perf_counter())
            policy.check_addresses(str(info[4][0]) for info in infos)
            connecting = time.perf_counter()
            await _connect_first(infos)
            connect_ms = elapsed_ms(connecting, time.perf_counter())
    except TimeoutError:
        return attempt(timeout_message(target.timeout_ms))
    except TargetRefused as exc:
        return attempt(str(exc))
    except socket.gaierror as exc:
        return attempt(f"DNS lookup failed for {host}: {exc.strerror or exc}")
    except OSError as exc:
        return attempt(describe_os_error(exc))
    return attempt()


async def _connect_first(
    infos: Sequence[tuple[int, int, int, str, Any]],
) -> None:
    """Connect to the addresses in order until one accepts; raise the last error when none does."""
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            return
        except OSError as exc:
            last = exc
        finally:
            sock.close()
    raise last or OSError(errno.EADDRNOTAVAIL, "no address to connect to")


def describe_os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connection refused"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"{exc.strerror or 'unreachable'}".lower()
    return f"connection failed: {exc.strerror or exc}"
