"""HTTP client choice for the probe: checks per second with a fresh connection per check, 64 in flight.

The target is a minimal server in its own process (uvloop, raw protocol) that answers ``200 ok`` and
closes every connection, over HTTP and HTTPS (a trustme test CA). Each client runs in its own process
too, so its peak RSS and CPU time are its own; every client process runs uvloop, as the probe does.

Clients compared (all on the same target, same concurrency):

- ``httpx``: ``AsyncClient`` with keep-alive off (the project's default HTTP client).
- ``httpcore``: httpx's transport used directly (``AsyncConnectionPool``, keep-alive off).
- ``aiohttp``: one ``ClientSession`` with ``force_close=True`` (a new connection per request).
- ``aiohttp_session_per_check``: a new ``ClientSession`` (and connector) for every check.
- ``raw_asyncio``: ``open_connection`` + a hand-written request: the ceiling, not a candidate (no
  redirects, chunked bodies, decompression, ...).
- ``probe_http_checker``: our ``HttpChecker.check`` (aiohttp + phase timing + target policy + body cap).
- ``probe_execute``: the full ``execute()`` (plus assertions, result model) with shared ``Checkers``.
- ``probe_execute_no_shared_checkers``: ``execute()`` without ``checkers=`` (a session per job).
- ``*_tls`` variants: the same over HTTPS (a full TLS handshake per check).

Run: ``python -m bench probe_http`` (or ``python -m bench.probe_http`` for a quick look).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CHECKS = int(os.environ.get("BENCH_PROBE_HTTP_CHECKS", "6000"))
WARMUP = 300
CONCURRENCY = 64
CLIENT_TIMEOUT = 180.0

CLIENTS = [
    "httpx",
    "httpcore",
    "aiohttp",
    "aiohttp_session_per_check",
    "raw_asyncio",
    "probe_http_checker",
    "probe_execute",
    "probe_execute_no_shared_checkers",
    "httpx_tls",
    "aiohttp_tls",
    "probe_http_checker_tls",
]

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


# --- the target (its own process) ------------------------------------------------------------------


class _AnswerAndClose(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer and self.transport is not None:
            self.transport.write(RESPONSE)
            self.transport.close()


async def _serve(port: int, tls_port: int, cert: str, key: str) -> None:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    await loop.create_server(_AnswerAndClose, "127.0.0.1", port, backlog=4096)
    await loop.create_server(_AnswerAndClose, "127.0.0.1", tls_port, backlog=4096, ssl=context)
    await asyncio.Event().wait()


# --- the clients (each in its own process) ---------------------------------------------------------

Check = Callable[[], Awaitable[None]]


async def _make_client(name: str, url: str) -> tuple[Check, Callable[[], Awaitable[None]]]:
    """Return (one check, cleanup) for client ``name``; a check raises if it did not get a 200."""
    if name.startswith("httpx"):
        import httpx

        client = httpx.AsyncClient(
            limits=httpx.Limits(max_keepalive_connections=0, max_connections=CONCURRENCY), timeout=30
        )

        async def httpx_check() -> None:
            response = await client.get(url)
            assert response.status_code == 200

        return httpx_check, client.aclose
    if name == "httpcore":
        import httpcore

        pool = httpcore.AsyncConnectionPool(max_connections=CONCURRENCY, max_keepalive_connections=0)

        async def httpcore_check() -> None:
            response = await pool.request("GET", url)
            assert response.status == 200

        return httpcore_check, pool.aclose
    if name in ("aiohttp", "aiohttp_tls"):
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                force_close=True, limit=0, use_dns_cache=False, ssl=ssl.create_default_context()
            )
        )

        async def aiohttp_check() -> None:
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200

        return aiohttp_check, session.close
    if name == "aiohttp_session_per_check":
        import aiohttp

        async def aiohttp_fresh_check() -> None:
            connector = aiohttp.TCPConnector(force_close=True, use_dns_cache=False)
            async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as response:
                await response.read()
                assert response.status == 200

        return aiohttp_fresh_check, _nothing
    if name == "raw_asyncio":
        host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
        request = f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()

        async def raw_check() -> None:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(request)
            data = await reader.read()
            writer.close()
            assert data.startswith(b"HTTP/1.1 200")

        return raw_check, _nothing
    if name.startswith("probe_"):
        from openstatus_common.messages.checks import CheckJob, CheckTarget
        from probe.checks import Checkers, TargetPolicy, execute
        from probe.checks.http import HttpChecker

        policy = TargetPolicy(allow_private=True)
        target = CheckTarget(kind="http", url=url, retry=0, timeout_ms=30_000)
        if name.startswith("probe_http_checker"):
            checker = HttpChecker(policy)

            async def checker_check() -> None:
                attempt = await checker.check(target)
                assert attempt.status_code == 200, attempt.error

            return checker_check, checker.close
        now = datetime.now(UTC)
        job = CheckJob(
            job_id="1:ams:0",
            monitor_id=1,
            workspace_id=1,
            region="ams",  # type: ignore[arg-type]
            scheduled_at=now,
            expires_at=now + timedelta(hours=1),
            target=target,
        )
        checkers = Checkers(policy) if name == "probe_execute" else None

        async def execute_check() -> None:
            result = await execute(job, policy=policy, checkers=checkers)
            assert result.status_code == 200, result.error

        return execute_check, (checkers.close if checkers else _nothing)
    raise ValueError(f"unknown client {name}")


async def _nothing() -> None:
    return None


async def _drive(check: Check, count: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            try:
                await check()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, errors, time.perf_counter() - started


async def _client_main(name: str, url: str, count: int) -> dict[str, Any]:
    check, cleanup = await _make_client(name, url)
    try:
        await _drive(check, WARMUP)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        latencies, errors, seconds = await _drive(check, count)
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        await cleanup()
    latencies.sort()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "checks_per_second": round(count / seconds),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "client_cpu_ms_per_check": round(cpu * 1000 / count, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": len(errors),
        **({"first_error": errors[0][:300]} if errors else {}),
    }


# --- orchestration ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


async def _run_client(name: str, url: str, ca_path: str) -> dict[str, Any]:
    env = {**os.environ, "SSL_CERT_FILE": ca_path}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.probe_http",
        "client",
        name,
        url,
        str(CHECKS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CLIENT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return {"failed": f"no result within {CLIENT_TIMEOUT}s"}
    if process.returncode != 0:
        return {"failed": stderr.decode(errors="replace")[-500:]}
    figures: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return figures


async def run() -> dict[str, Any]:
    import trustme

    workdir = Path(tempfile.mkdtemp(prefix="bench-probe-http-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = workdir / "ca.pem", workdir / "cert.pem", workdir / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    leaf.cert_chain_pems[0].write_to_path(str(cert_path))
    leaf.private_key_pem.write_to_path(str(key_path))

    port, tls_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.probe_http",
            "serve",
            str(port),
            str(tls_port),
            str(cert_path),
            str(key_path),
        ],
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    try:
        await _wait_listening(port)
        await _wait_listening(tls_port)
        clients: dict[str, Any] = {}
        for name in CLIENTS:
            scheme_port = (
                f"https://127.0.0.1:{tls_port}" if name.endswith("_tls") else f"http://127.0.0.1:{port}"
            )
            clients[name] = await _run_client(name, f"{scheme_port}/", str(ca_path))
            print(f"  {name}: {clients[name]}", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    return {
        "checks_per_client": CHECKS,
        "concurrency": CONCURRENCY,
        "target": "separate uvloop process, 200 ok, closes every connection",
        "clients": clients,
        "chosen": "aiohttp (force_close, shared session): probe.checks.http",
    }


def _main(argv: list[str]) -> None:
    import uvloop

    if argv[:1] == ["serve"]:
        uvloop.run(_serve(int(argv[1]), int(argv[2]), argv[3], argv[4]))
    elif argv[:1] == ["client"]:
        figures = uvloop.run(_client_main(argv[1], argv[2], int(argv[3])))
        print(json.dumps(figures), flush=True)
    else:
        print(json.dumps(asyncio.run(run()), indent=2))


if __name__ == "__main__":
    _main(sys.argv[1:])
