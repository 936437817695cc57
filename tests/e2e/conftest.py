"""The whole system as real processes on fresh NATS streams and a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openstatus_common.local.bootstrap import ensure_demo_workspace
from openstatus_common.local.natsd import free_port
from openstatus_common.testing.processes import ServiceProcess, http_status, wait_for

REGIONS = ["ams", "iad", "syd"]
SERVICES = (
    ("status_page", "OPENSTATUS_STATUS_PAGE_PORT"),
    ("scheduler", "OPENSTATUS_SCHEDULER_PORT"),
    ("incident_engine", "OPENSTATUS_INCIDENT_ENGINE_PORT"),
    ("notifier", "OPENSTATUS_NOTIFIER_PORT"),
)


@dataclass
class Stack:
    api: str
    pages: str
    key: str
    processes: list[ServiceProcess]

    def headers(self) -> dict[str, str]:
        return {"x-openstatus-key": self.key}

    def logs(self) -> str:
        return "\n".join(f"--- {p.module}\n{p.output()[-1500:]}" for p in self.processes)


@pytest.fixture
def stack_env() -> dict[str, str]:
    """Extra settings for every process of the stack; a test overrides this fixture to add some."""
    return {}


@pytest.fixture
async def stack(
    db_url: str, nats_url: str, tmp_path: Path, stack_env: dict[str, str]
) -> AsyncIterator[Stack]:
    demo = await ensure_demo_workspace(db_url, key_file=tmp_path / "key")
    base = {
        "OPENSTATUS_NATS_URL": nats_url,
        "OPENSTATUS_DATABASE_URL": db_url,
        "OPENSTATUS_REGIONS": ",".join(REGIONS),
        "OPENSTATUS_NOTIFY_BACKOFF_BASE": "0.5",
        "OPENSTATUS_VAR_DIR": str(tmp_path / "var"),
        **stack_env,
    }
    api_port = free_port()
    plan: list[tuple[str, dict[str, str], int]] = [
        ("api", {"OPENSTATUS_API_PORT": str(api_port)}, api_port),
    ]
    for module, variable in SERVICES:
        port = free_port()
        plan.append((module, {variable: str(port)}, port))
    pages_port = next(port for module, _env, port in plan if module == "status_page")
    # Links in mails and feeds point at this stack's pages.
    base["OPENSTATUS_PUBLIC_STATUS_PAGE_URL"] = f"http://127.0.0.1:{pages_port}"
    for region in REGIONS:
        port = free_port()
        plan.append(("probe", {"OPENSTATUS_REGION": region, "OPENSTATUS_PROBE_PORT": str(port)}, port))
    processes = []
    for index, (module, env, _port) in enumerate(plan):
        processes.append(ServiceProcess(module, {**base, **env}, tmp_path / f"{index}-{module}.log"))
    stack = Stack(
        api=f"http://127.0.0.1:{api_port}",
        pages=f"http://127.0.0.1:{pages_port}",
        key=demo.api_key,
        processes=processes,
    )
    try:
        for _module, _env, port in plan:

            async def ready(port: int = port) -> bool:
                return await http_status(f"http://127.0.0.1:{port}/readyz") == 200

            await wait_for(ready, timeout=30)
        yield stack
    finally:
        for process in processes:
            process.signal()
        for process in processes:
            try:
                await process.wait(timeout=20)
            finally:
                process.stop()
