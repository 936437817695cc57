"""Run every benchmark (or those named on the command line) and write bench/results/<name>.json."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCHMARKS = [
    "bus_throughput",
    "probe_http",
    "probe_bus",
    "recorder",
    "detection",
    "alerting",
    "pipeline",
    "status_page",
]
RESULTS = Path(__file__).parent / "results"


def main() -> None:
    names = sys.argv[1:] or BENCHMARKS
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"bench {name} ...", flush=True)
        figures: dict[str, Any] = asyncio.run(module.run())
        result = {
            "benchmark": name,
            "at": datetime.now(UTC).isoformat(),
            "machine": {"python": platform.python_version(), "cpus": _cpus()},
            "figures": figures,
        }
        # BENCH_TAG keeps the results of one benchmark run with different settings apart.
        tag = os.environ.get("BENCH_TAG", "")
        path = RESULTS / f"{name}{'-' + tag if tag else ''}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(figures, indent=2), flush=True)
        print(f"wrote {path}", flush=True)


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
