"""SIGTERM and SIGHUP stop `complaints dev` and every service cleanly: no process left, no
port held, exit status 0. The classifier's SIGHUP reloads its rules and leaves it running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.broker import free_port, port_free
from complaints_cli.processes import SERVICES, ServiceProcess

pytestmark = pytest.mark.kafka


def _children(pid: int) -> set[int]:
    """Every live descendant of a process (from /proc), whatever session it started."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _listening_ports(pids: set[int]) -> set[int]:
    """The TCP ports these processes listen on (their socket inodes in /proc/net/tcp{,6})."""
    inodes: set[str] = set()
    for pid in pids:
        with_fds = Path(f"/proc/{pid}/fd")
        try:
            links = [os.readlink(fd) for fd in with_fds.iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_dev_stops_broker_services_and_sink(
    signum: signal.Signals, kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    if signum == signal.SIGTERM:
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # dev starts a broker of its own: stopped too
    else:
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    out = (tmp_path / "dev.out").open("wb")
    dev = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "complaints_cli.main",
            "dev",
            "--no-demo",
            "--workdir",
            str(tmp_path),
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while b"pipeline is up" not in (tmp_path / "dev.out").read_bytes():
            assert dev.poll() is None, (tmp_path / "dev.out").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "dev.out").read_text()[-3000:]
            time.sleep(0.5)
        children = _children(dev.pid)
        ports = _listening_ports({dev.pid, *children})
        expected = 5 if signum == signal.SIGHUP else 6  # four services and the sink (+ broker)
        assert len(children) >= expected - 1, children
        assert len(ports) >= expected, ports
        dev.send_signal(signum)
        assert dev.wait(timeout=120) == 0, (tmp_path / "dev.out").read_text()[-3000:]
        assert b"Stopped." in (tmp_path / "dev.out").read_bytes()
        left = {pid for pid in children if _alive(pid)}
        assert not left, f"still running after {signum.name}: {left}"
        held = {port for port in ports if not port_free(port)}
        assert not held, f"ports still held after {signum.name}: {held}"
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
        for pid in _children(dev.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def services(kafka_bootstrap: str, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    run = uuid.uuid4().hex[:8]
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "INTAKE_CONSUMER_GROUP": f"sig-intake-{run}",
        "CLASSIFIER_APP_ID": f"sig-cls-{run}",
        "CLASSIFIER_DATA_DIR": str(tmp_path / "classifier"),
        "ESCALATION_APP_ID": f"sig-esc-{run}",
        "ESCALATION_DATA_DIR": str(tmp_path / "escalation"),
        "NOTIFIER_CONSUMER_GROUP": f"sig-ntf-{run}",
        "NOTIFIER_WEBHOOK_URL": "http://127.0.0.1:9/hooks",
        "NOTIFIER_WEBHOOK_SECRET": "whsec_c2lnbmFsLXRlc3Qtc2VjcmV0LTAxMjM0NTY3",
    }
    processes = {
        name: ServiceProcess(
            name=name, module=name, port=free_port(), env=common, log_dir=tmp_path / "logs"
        )
        for name in SERVICES
    }
    for process in processes.values():
        process.start()
    try:
        for process in processes.values():
            process.wait_ready(120)
        yield processes
    finally:
        for process in processes.values():
            process.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_every_service_stops_cleanly(
    signum: signal.Signals, services: dict[str, ServiceProcess]
) -> None:
    for name, process in services.items():
        assert process.process is not None
        if name == "classifier" and signum == signal.SIGHUP:
            process.process.send_signal(signal.SIGHUP)  # reloads its rules, keeps running
            deadline = time.monotonic() + 10
            while (
                "rules reload" not in process.log_path.read_text() and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            assert "rules reload" in process.log_path.read_text()
            assert process.running()
            assert process.ready()
            process.process.send_signal(signal.SIGTERM)
        else:
            process.process.send_signal(signum)
    for name, process in services.items():
        assert process.process is not None
        code = process.process.wait(timeout=60)
        assert code == 0, f"{name} exited {code} on {signum.name}:\n{process.log_tail()}"
        assert port_free(process.port), f"{name} still holds {process.port}"
