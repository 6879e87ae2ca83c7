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
    assert len(uids) == 3


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/complaints.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in volumes
