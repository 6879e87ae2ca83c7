"""Start, watch and stop the services as separate processes, as they run in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("intake", "classifier", "escalation", "notifier")
# The read model's two processes (services/console): started by stacks that ask for them.
CONSOLE_SERVICES = ("projector", "console")
DEFAULT_PORTS = {
    "intake": 8080,
    "classifier": 9101,
    "escalation": 9102,
    "notifier": 9103,
    "projector": 9104,
    "console": 8090,
}
# The module run for a service (`python -m complaints_<module>`).
MODULES = {"projector": "console.projector", "console": "console.web"}


def port_env(name: str, port: int) -> dict[str, str]:
    """The variable that sets a service's HTTP/ops port (intake and the console serve both
    on one port)."""
    if name in ("intake", "console.web", "console"):
        key = "CONSOLE_HTTP_PORT" if name.startswith("console") else "INTAKE_HTTP_PORT"
    elif name.startswith("console.projector"):
        key = "PROJECTOR_OPS_PORT"
    else:
        key = f"{name.upper()}_OPS_PORT"
    return {key: str(port)}


@dataclass
class ServiceProcess:
    """One service run as `python -m complaints_<name>`, its output in a log file."""

    name: str
    module: str
    port: int
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, **port_env(self.module, self.port)}
        env.setdefault("PYTHONUNBUFFERED", "1")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"complaints_{self.module}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Block until /readyz answers 200; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.running():
                raise RuntimeError(f"{self.name} exited; log tail:\n{self.log_tail()}")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name} not ready after {timeout:.0f}s; log tail:\n{self.log_tail()}"
        )

    def metrics(self) -> str:
        return httpx.get(f"{self.base_url}/metrics", timeout=5).text

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL: the crash a service must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
