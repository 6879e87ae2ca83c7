"""The committed dashboards are what the code generates, and each panel is well-formed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"


def test_committed_dashboards_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, "run `make dashboards` and commit:\n" + result.stderr


def test_panels_query_prometheus_with_unique_ref_ids() -> None:
    uids = set()
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        uids.add(dashboard["uid"])
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels, path.name
        for panel in panels:
            refs = [t["refId"] for t in panel["targets"]]
            assert refs, (path.name, panel["title"])
            assert len(set(refs)) == len(refs), (path.name, panel["title"])
            assert all(t["expr"].strip() for t in panel["targets"])
            assert panel["datasource"]["type"] == "prometheus"
    assert len(uids) == 4


def test_counts_show_whole_numbers() -> None:
    """A count (increase() over a window extrapolates: 2.111 breaches) is rounded and shown
    without decimals."""
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] == "row" or panel["fieldConfig"]["defaults"].get("unit") != "short":
                continue
            exprs = [t["expr"] for t in panel["targets"]]
            if any("increase(" in e for e in exprs) or panel["type"] == "stat":
                assert panel["fieldConfig"]["defaults"].get("decimals") == 0, (
                    path.name,
                    panel["title"],
                )
                assert all(e.startswith(("round(", "topk(5, round(")) for e in exprs), exprs


def test_the_kpi_dashboard_has_the_monthly_review() -> None:
    kpi = json.loads((GRAFANA / "dashboards" / "kpi.json").read_text())
    titles = {p["title"] for p in kpi["panels"]}
    assert {
        "Response within SLA",
        "T+3 closure within SLA",
        "Top 5 common issues (clusters opened by category)",
        "Escalations by department",
        "Transfers out of each department",
    } <= titles
    assert kpi["time"]["from"] == "now-30d"


def test_the_sdk_and_the_grafana_image_target_one_version() -> None:
    from importlib.metadata import version

    import yaml

    sdk = version("grafana-foundation-sdk").split("!")[-1]  # epoch!grafana-version
    image = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"][
        "image"
    ]
    tag = image.rsplit(":", 1)[1]
    assert tag.split(".")[:2] == sdk.split(".")[:2], (image, sdk)


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/complaints.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in volumes
