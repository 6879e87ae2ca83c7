"""The Kubernetes manifests build with kustomize and validate, strictly, against the
Kubernetes 1.33 schemas with kubeconform (installed by scripts/k8s-tools.sh)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from complaints_intake.channels_file import load_channels

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".local" / "bin"
SCHEMAS = ROOT / ".local" / "k8s-schemas"


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    subprocess.run([str(ROOT / "scripts" / "k8s-tools.sh")], check=True, capture_output=True)


def build(overlay: str) -> str:
    return subprocess.run(
        [str(BIN / "kustomize"), "build", str(ROOT / "deploy" / "k8s" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def kubeconform(manifests: str) -> subprocess.CompletedProcess[str]:
    location = f"{SCHEMAS}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
    return subprocess.run(
        [str(BIN / "kubeconform"), "-strict", "-summary", "-schema-location", location, "-"],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_manifests_are_valid(overlay: str) -> None:
    result = kubeconform(build(overlay))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_an_unknown_field_is_refused() -> None:
    docs = list(yaml.safe_load_all(build("base")))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["replica"] = 3
    result = kubeconform(yaml.safe_dump(deployment))
    assert result.returncode != 0
    assert "replica" in result.stdout


def test_every_service_is_deployed_scraped_and_probed() -> None:
    docs = list(yaml.safe_load_all(build("overlays/production")))
    workloads = {
        d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")
    }
    assert set(workloads) == {
        "intake",
        "classifier",
        "escalation",
        "notifier",
        "projector",
        "console",
        "postgres",
    }
    for name, workload in workloads.items():
        if name == "postgres":
            continue
        pod = workload["spec"]["template"]
        assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true", name
        container = pod["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("HorizontalPodAutoscaler", "intake") in kinds
    for faust_worker in ("classifier", "escalation"):
        assert workloads[faust_worker]["kind"] == "StatefulSet"
        assert ("PodDisruptionBudget", faust_worker) in kinds
        assert workloads[faust_worker]["spec"]["replicas"] == 3


def test_intake_authenticates_with_the_channels_secret(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(build("overlays/production")))
    intake = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "intake"
    )
    pod = intake["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mount = pod["containers"][0]["volumeMounts"][0]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    secret = next(
        d
        for d in docs
        if d["kind"] == "Secret" and d["metadata"]["name"] == volume["secret"]["secretName"]
    )
    file_name = Path(env["INTAKE_CHANNELS_FILE"]).name
    assert Path(env["INTAKE_CHANNELS_FILE"]).parent == Path(mount["mountPath"])
    path = tmp_path / file_name
    path.write_text(secret["stringData"][file_name], encoding="utf-8")
    assert load_channels(path).channels  # what intake reads at start, or exits naming the line


def test_console_reads_its_users_secret(tmp_path: Path) -> None:
    from complaints_console.users_file import load_users

    docs = list(yaml.safe_load_all(build("overlays/production")))
    console = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "console"
    )
    pod = console["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mount = pod["containers"][0]["volumeMounts"][0]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    secret = next(
        d
        for d in docs
        if d["kind"] == "Secret" and d["metadata"]["name"] == volume["secret"]["secretName"]
    )
    file_name = Path(env["CONSOLE_USERS_FILE"]).name
    assert Path(env["CONSOLE_USERS_FILE"]).parent == Path(mount["mountPath"])
    path = tmp_path / file_name
    path.write_text(secret["stringData"][file_name], encoding="utf-8")
    assert load_users(path)  # what the console reads at start, or exits naming the problem
    projector = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "projector"
    )
    assert projector["spec"]["replicas"] == 1
    assert projector["spec"]["strategy"]["type"] == "Recreate"
