"""A throwaway PostgreSQL cluster: initdb into a temporary directory, started on a free port.

Postgres refuses to run as root, so as root its tools run as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from openstatus_common.local.natsd import free_port


class PostgresError(RuntimeError):
    pass


def find_pg_bindir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresError("PostgreSQL server binaries not found: run `make setup` (Debian package postgresql)")


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int = 0
    bindir: Path | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.bindir = self.bindir or find_pg_bindir()

    def _run(self, tool: str, *args: str) -> None:
        assert self.bindir is not None
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "--no-sync")
        options = (
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        with contextlib.suppress(PostgresError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"
