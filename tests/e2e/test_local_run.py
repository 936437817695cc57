"""`make run` as a new user sees it: everything ready, the printed key works, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openstatus_common.local.natsd import free_port
from openstatus_common.testing.processes import wait_for

LOCAL = str(Path(sys.executable).with_name("openstatus-local"))


def children_of(pid: int) -> set[int]:
    """Every descendant of ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def consecutive_free_ports(count: int) -> int:
    for _ in range(50):
        base = free_port()
        if base + count < 65000 and all(_port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free port range")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENSTATUS_")}
    env.update(
        {
            "OPENSTATUS_VAR_DIR": str(tmp_path / "var"),
            "OPENSTATUS_NATS_PORT": str(free_port()),
            "OPENSTATUS_API_PORT": str(free_port()),
            "OPENSTATUS_STATUS_PAGE_PORT": str(free_port()),
            "OPENSTATUS_SCHEDULER_PORT": str(free_port()),
            "OPENSTATUS_INCIDENT_ENGINE_PORT": str(free_port()),
            "OPENSTATUS_NOTIFIER_PORT": str(free_port()),
            "OPENSTATUS_PROBE_PORT": str(consecutive_free_ports(3)),
        }
    )
    yield env


class LocalRun:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.handle = open(log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen([LOCAL], env=env, stdout=self.handle, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_running(self) -> None:
        async def banner() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"openstatus-local exited early:\n{self.output()[-3000:]}")
            return "openstatus is running." in self.output()

        await wait_for(banner, timeout=60, interval=0.2)

    async def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        for _ in range(600):
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        self.handle.close()
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"openstatus-local did not stop:\n{self.output()[-3000:]}")
        return int(self.process.returncode)


async def test_make_run_end_to_end(local_env: dict[str, str], tmp_path: Path) -> None:
    run = LocalRun(local_env, tmp_path / "run1.log")
    try:
        await run.wait_running()
        descendants = children_of(run.process.pid)
        assert len(descendants) >= 9  # nats-server, api, status page, scheduler, engine, notifier, 3 probes

        key = (tmp_path / "var" / "demo-api-key").read_text().strip()
        assert key.startswith("os_")
        assert key in run.output()
        api = f"http://127.0.0.1:{local_env['OPENSTATUS_API_PORT']}"
        async with httpx.AsyncClient(timeout=5) as client:
            ok = await client.get(f"{api}/v1/whoami", headers={"x-openstatus-key": key})
            assert ok.status_code == 200, ok.text
            assert ok.json()["slug"] == "demo"
            assert (await client.get(f"{api}/v1/whoami")).status_code == 401
            ports = [
                local_env[f"OPENSTATUS_{name}_PORT"]
                for name in ("API", "STATUS_PAGE", "SCHEDULER", "INCIDENT_ENGINE", "NOTIFIER")
            ]
            probe_base = int(local_env["OPENSTATUS_PROBE_PORT"])
            ports += [str(probe_base + i) for i in range(3)]
            for port in ports:
                assert (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200, port
            page = await client.get(f"http://127.0.0.1:{local_env['OPENSTATUS_STATUS_PAGE_PORT']}/demo")
            assert page.status_code == 200
            assert "Demo status" in page.text
    finally:
        code = await run.interrupt()
    assert code == 0, run.output()[-3000:]
    assert not [pid for pid in descendants if alive(pid)], run.output()[-3000:]

    # Running again reuses the data: same workspace, same key.
    second = LocalRun(local_env, tmp_path / "run2.log")
    try:
        await second.wait_running()
        assert (tmp_path / "var" / "demo-api-key").read_text().strip() == key
        async with httpx.AsyncClient(timeout=5) as client:
            again = await client.get(f"{api}/v1/whoami", headers={"x-openstatus-key": key})
            assert again.status_code == 200
    finally:
        assert await second.interrupt() == 0


async def test_bootstrap_api_key_is_the_demo_key(local_env: dict[str, str], tmp_path: Path) -> None:
    chosen = "os_" + "k" * 32
    run = LocalRun({**local_env, "OPENSTATUS_BOOTSTRAP_API_KEY": chosen}, tmp_path / "run.log")
    try:
        await run.wait_running()
        api = f"http://127.0.0.1:{local_env['OPENSTATUS_API_PORT']}"
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"{api}/v1/whoami", headers={"x-openstatus-key": chosen})
        assert response.status_code == 200
        assert (tmp_path / "var" / "demo-api-key").read_text().strip() == chosen
    finally:
        assert await run.interrupt() == 0
