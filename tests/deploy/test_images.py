"""Each image of the Dockerfile builds and starts as deployed: as uid 10001 on a read-only root
filesystem (only /tmp and /data writable), ready against a real broker, and stopped cleanly by
SIGTERM. Built with the container runtime scripts/images.sh finds (podman from Debian here;
docs/decisions/0007-images.md); skipped, saying so, on a machine with none."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from complaints_cli.broker import LocalKafka, free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "images.sh"
SERVICES = {
    "intake": "INTAKE_HTTP_PORT",
    "classifier": "CLASSIFIER_OPS_PORT",
    "escalation": "ESCALATION_OPS_PORT",
    "notifier": "NOTIFIER_OPS_PORT",
}
TAG = "check"


def _script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def runtime() -> list[str]:
    """The runtime command and the options this machine needs (scripts/images.sh)."""
    found = _script("runtime")
    if found.returncode == 3:
        pytest.skip("no container runtime here; scripts/images.sh build is the check to run")
    assert found.returncode == 0, found.stderr
    if found.stdout.strip() == "buildah":  # builds, cannot start a container
        built = _script("build", timeout=1800)
        assert built.returncode == 0, built.stderr[-4000:]
        pytest.skip("buildah only: the images were built, starting them needs podman or docker")
    global_options, run_options = _script("args").stdout.split("|")
    return [found.stdout.strip(), *global_options.split(), "run", *run_options.split()]


@pytest.fixture(scope="module")
def images(runtime: list[str]) -> list[str]:
    built = _script("build", timeout=1800)
    assert built.returncode == 0, built.stderr[-4000:]
    return [f"complaints/{name}:{TAG}" for name in (*SERVICES, "cli")]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of their own: the containers' consumer groups stay off the shared one."""
    kafka = LocalKafka(state_dir=tmp_path_factory.mktemp("images-kafka"), heap="512m")
    kafka.start()
    try:
        yield kafka.bootstrap_servers
    finally:
        kafka.stop()


def _run(runtime: list[str], image: str, *args: str, name: str, env: dict[str, str]) -> None:
    options = ["--read-only", "--tmpfs", "/tmp", "--network", "host", "--name", name, "-d"]
    for key, value in env.items():
        options += ["-e", f"{key}={value}"]
    subprocess.run([*runtime, *options, image, *args], check=True, capture_output=True)


def _podman(runtime: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*runtime[: runtime.index("run")], *args], capture_output=True, text=True, check=False
    )


def test_the_cli_image_answers_help(runtime: list[str], images: list[str]) -> None:
    result = subprocess.run(
        [*runtime, "--rm", "--read-only", "--network", "none", "complaints/cli:check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "topics" in result.stdout
    assert "replay" in result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_image_starts_unprivileged_and_stops_on_sigterm(
    runtime: list[str], images: list[str], broker: str, service: str
) -> None:
    run = uuid.uuid4().hex[:8]
    port = free_port()
    name = f"check-{service}-{run}"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        SERVICES[service]: str(port),
        SERVICES[service].replace("_PORT", "_HOST"): "127.0.0.1",
        "CLASSIFIER_APP_ID": f"img-cls-{run}",
        "ESCALATION_APP_ID": f"img-esc-{run}",
        "NOTIFIER_CONSUMER_GROUP": f"img-ntf-{run}",
        "NOTIFIER_WEBHOOK_URL": "http://127.0.0.1:9/hooks",
        "NOTIFIER_WEBHOOK_SECRET": "whsec_aW1hZ2UtY2hlY2stc2VjcmV0LTAxMjM0NTY3",
        "INTAKE_CONSUME_SUBMITTED": "false",
    }
    _run(runtime, f"complaints/{service}:{TAG}", name=name, env=env)
    try:
        deadline, status = time.monotonic() + 120, 0
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.5)
        logs = _podman(runtime, "logs", name)
        assert status == 200, logs.stdout[-3000:] + logs.stderr[-3000:]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        user = _podman(runtime, "exec", name, "id", "-u").stdout.strip()
        assert user == "10001"
        root = _podman(runtime, "exec", name, "touch", "/app/written")
        assert root.returncode != 0  # the root filesystem is read-only
        stopped = _podman(runtime, "stop", "-t", "30", name)
        assert stopped.returncode == 0, stopped.stderr
        code = _podman(runtime, "inspect", name, "--format", "{{.State.ExitCode}}").stdout
        assert code.strip() == "0", _podman(runtime, "logs", name).stderr[-3000:]
    finally:
        _podman(runtime, "rm", "-f", name)
