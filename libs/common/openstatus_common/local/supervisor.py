"""``make run``: the whole system on one machine, under one supervisor.

Starts nats-server from the virtual environment (unless OPENSTATUS_NATS_URL points elsewhere), migrates the
database (SQLite under ./var unless OPENSTATUS_DATABASE_URL is set), creates the demo workspace, runs every
service as a child process with prefixed log lines, restarts a child that dies, and on Ctrl-C or SIGTERM
stops the children, then NATS, leaving no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from openstatus_common.db.migrate import upgrade
from openstatus_common.local.bootstrap import DemoWorkspace, ensure_demo_workspace
from openstatus_common.local.natsd import NatsServer
from openstatus_common.settings import Settings, load_settings_or_exit

READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1
COLORS = ["36", "32", "33", "35", "34", "96", "92", "93", "95"]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int
    env: dict[str, str] = field(default_factory=dict)


def service_specs(settings: Settings) -> list[ServiceSpec]:
    specs = [
        ServiceSpec("api", "api", settings.api_port),
        ServiceSpec("status-page", "status_page", settings.status_page_port),
        ServiceSpec("scheduler", "scheduler", settings.scheduler_port),
        ServiceSpec("incident-engine", "incident_engine", settings.incident_engine_port),
        ServiceSpec("notifier", "notifier", settings.notifier_port),
    ]
    for offset, region in enumerate(settings.regions):
        port = settings.probe_port + offset
        env = {"OPENSTATUS_REGION": region.value, "OPENSTATUS_PROBE_PORT": str(port)}
        specs.append(ServiceSpec(f"probe-{region.value}", "probe", port, env))
    return specs


def _die_with_parent() -> None:
    """Runs in the child before exec: if the supervisor is killed outright, the child gets SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    def __init__(self, spec: ServiceSpec, env: dict[str, str], color: str, width: int) -> None:
        self.spec = spec
        self.env = env
        self.prefix = (
            f"\x1b[{color}m{spec.name.ljust(width)} |\x1b[0m "
            if sys.stdout.isatty()
            else (f"{spec.name.ljust(width)} | ")
        )
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.spec.module,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
            preexec_fn=_die_with_parent,
        )

    async def pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            sys.stdout.write(self.prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    def terminate(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.nats: NatsServer | None = None
        self.children: list[Child] = []

    def say(self, message: str) -> None:
        print(f"openstatus | {message}", flush=True)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        var_dir = self.settings.var_dir
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            nats_url = await self._start_nats(var_dir)
            self.say(f"migrating {_redact(self.settings.database_url)}")
            await upgrade(self.settings.database_url)
            demo = await ensure_demo_workspace(
                self.settings.database_url,
                key_file=var_dir / "demo-api-key",
                bootstrap_key=self.settings.bootstrap_api_key,
                demo_monitor_url=f"{self.settings.api_url}/healthz",
                regions=tuple(region.value for region in self.settings.regions),
            )
            env = {
                **os.environ,
                "OPENSTATUS_NATS_URL": nats_url,
                "OPENSTATUS_DATABASE_URL": self.settings.database_url,
                "OPENSTATUS_LOG_FORMAT": os.environ.get("OPENSTATUS_LOG_FORMAT", "console"),
                "PYTHONUNBUFFERED": "1",
            }
            specs = service_specs(self.settings)
            width = max(len(spec.name) for spec in specs)
            self.children = [
                Child(spec, {**env, **spec.env}, COLORS[i % len(COLORS)], width)
                for i, spec in enumerate(specs)
            ]
            watchers = [asyncio.create_task(self._watch(child)) for child in self.children]
            ready = await self._wait_ready()
            if ready:
                self._banner(demo)
            await self.stop.wait()
            self.say("stopping")
            await self._stop_children()
            await asyncio.gather(*watchers, return_exceptions=True)
            return 0 if ready else 1
        finally:
            await self._stop_children()
            if self.nats is not None:
                await asyncio.to_thread(self.nats.stop)
            self.say("stopped")

    async def _start_nats(self, var_dir: Path) -> str:
        if self.settings.is_set("nats_url"):
            self.say(f"using NATS at {self.settings.nats_url}")
            return self.settings.nats_url
        self.nats = NatsServer(
            store_dir=var_dir / "nats", port=self.settings.nats_port, log_file=var_dir / "nats-server.log"
        )
        await asyncio.to_thread(self.nats.start)
        self.say(f"nats-server with JetStream on {self.nats.url} (data in {var_dir / 'nats'})")
        return self.nats.url

    async def _watch(self, child: Child) -> None:
        """Run a child; restart it with backoff if it dies while we are not stopping."""
        delay = 1.0
        while not self.stop.is_set():
            await child.start()
            await child.pump()
            assert child.process is not None
            code = await child.process.wait()
            if self.stop.is_set():
                return
            child.restarts += 1
            self.say(f"{child.spec.name} exited with status {code}; restarting in {delay:.0f}s")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)
            delay = min(delay * 2, 30.0)

    async def _wait_ready(self) -> bool:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        pending = {child.spec.name: child.spec.port for child in self.children}
        async with httpx.AsyncClient(timeout=2.0) as client:
            while pending and not self.stop.is_set():
                for name, port in list(pending.items()):
                    with contextlib.suppress(httpx.HTTPError):
                        response = await client.get(f"http://{self.settings.host}:{port}/readyz")
                        if response.status_code == 200:
                            del pending[name]
                if not pending:
                    return True
                if asyncio.get_running_loop().time() > deadline:
                    self.say(f"not ready after {READY_TIMEOUT:.0f}s: {', '.join(sorted(pending))}")
                    return False
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 0.2)
        return not pending

    def _banner(self, demo: DemoWorkspace) -> None:
        lines = [
            "",
            "openstatus is running.",
            f"  API          {self.settings.api_url}   (docs: {self.settings.api_url}/docs)",
            f"  Status page  {self.settings.status_page_url}/{demo.page_slug}",
            f"  API key      {demo.api_key}   (saved in {self.settings.var_dir / 'demo-api-key'})",
            f"  Try:         curl -H 'x-openstatus-key: {demo.api_key}' {self.settings.api_url}/v1/whoami",
            "  Stop with Ctrl-C.",
            "",
        ]
        print("\n".join(lines), flush=True)

    async def _stop_children(self) -> None:
        for child in self.children:
            child.terminate()
        grace = self.settings.shutdown_timeout + 5
        running = [child.process.wait() for child in self.children if child.process is not None]
        if not running:
            return
        _, late = await asyncio.wait([asyncio.ensure_future(w) for w in running], timeout=grace)
        if late:
            for child in self.children:
                child.kill()
            await asyncio.wait(late, timeout=5)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def main() -> None:
    settings = load_settings_or_exit()
    raise SystemExit(asyncio.run(Supervisor(settings).run()))
