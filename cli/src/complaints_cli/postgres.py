"""A real PostgreSQL server in a temporary directory, for tests, benchmarks and `make dev`.

Debian's `postgresql` package brings the binaries (scripts/ensure-system-deps.sh installs
it); initdb and pg_ctl run as the `postgres` user (runuser) when we are root, since the
server refuses to run as root. The server listens on loopback on a free port, trusts local
connections, and is stopped with its directory removed. CONSOLE_TEST_DATABASE_URL names an
existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from complaints_cli.broker import free_port

DATABASE = "complaints"


class PostgresError(RuntimeError):
    pass


def pg_bin(name: str) -> str:
    """A server binary: on PATH, else the newest /usr/lib/postgresql/<v>/bin."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise PostgresError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


@dataclass
class LocalPostgres:
    port: int = 0
    root: Path | None = None
    _owned_root: bool = field(default=False, init=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> LocalPostgres:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="complaints-pg-"))
            self._owned_root = True
        self.port = self.port or free_port()
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not (data / "PG_VERSION").exists():
            done = self._run(
                pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
            if done.returncode != 0:
                raise PostgresError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=128MB"
        )
        started = self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if started.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-3000:]
            raise PostgresError(f"pg_ctl start failed:\n{started.stderr}\n{log}")
        self._create_database()
        return self

    def _create_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            done = self._run(
                pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                DATABASE,
            )
            if done.returncode == 0 or "already exists" in done.stderr:
                return
            if time.monotonic() > deadline:
                raise PostgresError(f"createdb failed: {done.stderr}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.root is None:
            return
        self._run(pg_bin("pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        if self._owned_root:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a database URL: CONSOLE_TEST_DATABASE_URL if set, else a local server's."""
    existing = os.environ.get("CONSOLE_TEST_DATABASE_URL")
    if existing:
        yield existing
        return
    server = LocalPostgres().start()
    try:
        yield server.url
    finally:
        server.stop()
