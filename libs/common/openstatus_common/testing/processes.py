"""Helpers for tests that run services as real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import httpx


async def wait_for(
    condition: Callable[[], Awaitable[bool]], timeout: float = 10.0, interval: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; fail the test with a clear message after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if await condition():
            return
        if loop.time() > deadline:
            raise AssertionError(
                f"condition {getattr(condition, '__name__', condition)} not met within {timeout}s"
            )
        await asyncio.sleep(interval)


async def http_status(url: str) -> int | None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        try:
            return (await client.get(url)).status_code
        except httpx.HTTPError:
            return None


class ServiceProcess:
    """``python -m <module>`` (or ``python <file>.py``); output goes to a log file for post-mortems."""

    def __init__(self, module: str, env: Mapping[str, str], log_path: Path) -> None:
        self.module = module
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, module] if module.endswith(".py") else [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.process.poll() is None:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{self.module} still running after {timeout}s:\n{self.output()[-3000:]}"
                )
            await asyncio.sleep(0.05)
        return int(self.process.returncode)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()
