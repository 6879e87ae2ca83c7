"""The Kubernetes manifests build with kustomize and validate, strictly, against the
Kubernetes 1.33 schemas with kubeconform (installed by scripts/k8s-tools.sh)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from complaints_intake.channels_file import load_channels
from complaints_kit.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".local" / "bin"
SCHEMAS = ROOT / ".local" / "k8s-schemas"


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    subprocess.run([str(ROOT / "scripts" / "k8s-tools.sh")], check=True, capture_output=True)


@functools.cache
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


def _docs(overlay: str = "overlays/production") -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(build(overlay)) if d]


def _pods(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    }


def test_every_pod_runs_unprivileged_on_a_read_only_root() -> None:
    pods = _pods(_docs())
    assert set(pods) >= {"intake", "classifier", "escalation", "notifier", "topics"}
    for name, pod in pods.items():
        if name == "postgres":  # the database's own image and user (uid 999)
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name  # the images' user
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, name  # the only writable places: /tmp and /data
        if name != "topics":
            container = pod["containers"][0]
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
            startup = container["startupProbe"]
            assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, name


def test_network_is_denied_unless_allowed() -> None:
    docs = _docs()
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny
    kafka = policies["dns-and-kafka"]["egress"]
    assert {p["port"] for rule in kafka for p in rule["ports"]} == {53, 9092, 9093}
    scraped = {p["port"] for p in policies["metrics-scrape"]["ingress"][0]["ports"]}
    services = ("intake", "classifier", "escalation", "notifier")
    for container in (p["containers"][0] for n, p in _pods(docs).items() if n in services):
        assert {port["containerPort"] for port in container["ports"]} <= scraped
    notifier_out = policies["notifier-egress"]["egress"][0]["to"][0]["ipBlock"]
    assert "10.0.0.0/8" in notifier_out["except"]  # webhooks never reach the cluster's own


def _env_sources(docs: list[dict[str, Any]], pod: dict[str, Any]) -> dict[str, str]:
    """Every variable a container gets from its ConfigMaps and Secrets, then its env."""
    container = pod["containers"][0]
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", "configMapRef") if "configMapRef" in source else ("Secret", "secretRef")
        )
        doc = next(
            d for d in docs if d["kind"] == kind and d["metadata"]["name"] == source[ref]["name"]
        )
        values |= doc.get("data") or doc.get("stringData") or {}
    values |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return values


def test_ack_links_are_on_with_one_shared_secret() -> None:
    docs = _docs()
    pods = _pods(docs)
    intake, notifier = _env_sources(docs, pods["intake"]), _env_sources(docs, pods["notifier"])
    assert intake["ACK_LINK_SECRET"]
    assert intake["ACK_LINK_SECRET"] == notifier["ACK_LINK_SECRET"]
    assert notifier["NOTIFIER_ACK_BASE_URL"].endswith("/v1/ack/")
    assert notifier["NOTIFIER_WEBHOOK_SECRET"].startswith("whsec_")
    for name, pod in pods.items():  # secrets come from Secrets, never from plain env values
        for entry in pod["containers"][0].get("env", []):
            assert not any(w in entry["name"] for w in ("SECRET", "PASSWORD")), (name, entry)


def test_production_replicates_topics_and_services_only_verify() -> None:
    docs = _docs()
    pods = _pods(docs)
    for name in ("intake", "classifier", "escalation", "notifier"):
        env = _env_sources(docs, pods[name])
        assert env["KAFKA_TOPICS"] == "verify", name
        assert env["KAFKA_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_TOPIC_MIN_INSYNC_REPLICAS"] == "2", name
        KafkaSettings.model_validate(
            {k.removeprefix("KAFKA_").lower(): v for k, v in env.items() if k.startswith("KAFKA_")}
        )
    job = _env_sources(docs, pods["topics"])
    assert job["KAFKA_TOPICS"] == "create"
    assert pods["topics"]["containers"][0]["args"] == ["topics"]
    base = _pods(_docs("base"))
    assert _env_sources(_docs("base"), base["intake"])["KAFKA_TOPIC_REPLICATION_FACTOR"] == "1"


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
