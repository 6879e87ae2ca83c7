"""A real Prometheus (Debian's package) scrapes the four running services; every dashboard
panel's query returns series, and every alert expression evaluates without error over
metrics that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from confluent_kafka import Producer

from complaints_cli.broker import free_port
from complaints_cli.stack import Stack
from complaints_schemas import topics
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.e2e.test_pipeline import deliveries_for, red_complaint
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "complaints.rules.yml"


def _dashboard_queries() -> list[tuple[str, str, str]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dashboards", ROOT / "deploy/grafana/dashboards.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboards"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    queries: list[tuple[str, str, str]] = module.panel_queries()
    return queries


def _send_traffic(stack: Stack) -> list[str]:
    """Every path a panel shows: accepted, clustered, escalated, delivered, and rejected input
    at each service; returns the ids of the complaints that will escalate."""
    intake = stack.services["intake"].base_url
    escalating = []
    for _ in range(2):
        answer = httpx.post(f"{intake}/v1/complaints", json=red_complaint(), timeout=10).json()
        escalating.append(answer["complaint_id"])
    product = f"P-{uuid.uuid4().hex[:6]}"
    for n in range(5):
        similar = red_complaint(
            title="物流信息一直不更新",
            description=f"快递物流三天没有更新了 (#{n})",
            product_id=product,
        )
        httpx.post(f"{intake}/v1/complaints", json=similar, timeout=10)
    httpx.post(f"{intake}/v1/complaints", json={"channel": "fax"}, timeout=10)
    # The review's KPIs: one complaint answered in time, transferred, resolved and closed.
    settled = httpx.post(f"{intake}/v1/complaints", json=red_complaint(), timeout=10).json()
    status = f"{stack.services['escalation'].base_url}/v1/complaints/{settled['complaint_id']}"
    token = {"Authorization": f"Bearer {stack.status_token}"}
    wait_for(
        lambda: httpx.get(status, headers=token, timeout=2).status_code == 200,
        timeout=30,
        what="the settled complaint classified at escalation",
    )
    for step in (
        {"action": "acknowledged"},
        {"action": "transferred", "to_department": "logistics"},
        {"action": "resolved"},
        {"action": "closed"},
    ):
        answer = httpx.post(
            f"{intake}/v1/complaints/{settled['complaint_id']}/events", json=step, timeout=10
        )
        assert answer.status_code == 202, answer.text
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    for topic in (topics.SUBMITTED, topics.ACCEPTED, topics.CLASSIFIED, topics.ESCALATED):
        producer.produce(topic.name, key=b"garbage", value=b"\xffnot an event")
    producer.flush(10)
    return escalating


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: scripts/ensure-system-deps.sh installs Debian's prometheus"
    workdir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{proc.port}"]}]}
            for name, proc in stack.services.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def all_targets_up() -> bool:
            try:
                active = httpx.get(f"{url}/api/v1/targets", timeout=2).json()["data"][
                    "activeTargets"
                ]
            except (httpx.HTTPError, KeyError, ValueError):
                return False
            return len(active) == 4 and all(t["health"] == "up" for t in active)

        wait_for(all_targets_up, timeout=60, what="Prometheus scraping all four services")
        escalating = _send_traffic(stack)
        wait_for(
            lambda: all(deliveries_for(stack, c) for c in escalating),
            timeout=RED_SLA_SECONDS + 30,
            what="the traffic's escalations delivered",
        )
        time.sleep(5)  # several scrapes, so that rate() has two samples in its window
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _query(url: str, expr: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("dashboard", "title", "expr"), _dashboard_queries())
def test_dashboard_query_returns_series(
    prometheus: str, dashboard: str, title: str, expr: str
) -> None:
    body = _query(prometheus, expr.replace("$__rate_interval", "1m").replace("$__range", "1h"))
    assert body["status"] == "success", body
    assert body["data"]["result"], f"{dashboard} / {title}: no series for {expr}"


def _alerts() -> list[tuple[str, str]]:
    rules = yaml.safe_load(RULES.read_text())
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


@pytest.mark.parametrize(("alert", "expr"), _alerts())
def test_alert_expression_evaluates_over_existing_metrics(
    prometheus: str, alert: str, expr: str
) -> None:
    body = _query(prometheus, expr)
    assert body["status"] == "success", body
    for metric in sorted(set(re.findall(r"\b(?:complaints_[a-z_]+|up)\b", expr))):
        name = re.sub(r"_bucket$", "", metric)
        found = _query(prometheus, f'count({{__name__=~"{name}(_bucket)?"}})')["data"]["result"]
        assert found, f"{alert}: metric {metric} is not exposed by any service"


def _query_range(url: str) -> Callable[[str], list[tuple[str, list[tuple[float, float]]]]]:
    def query(expr: str) -> list[tuple[str, list[tuple[float, float]]]]:
        end = time.time()
        response = httpx.get(
            f"{url}/api/v1/query_range",
            params={
                "query": expr.replace("$__rate_interval", "1m").replace("$__range", "1h"),
                "start": end - 120,
                "end": end,
                "step": 2,
            },
            timeout=10,
        )
        return [
            (
                " ".join(f"{k}={v}" for k, v in r["metric"].items()),
                [(float(t), float(v)) for t, v in r["values"]],
            )
            for r in response.json()["data"]["result"]
        ]

    return query


def test_dashboards_render_from_the_committed_json(prometheus: str, tmp_path: Path) -> None:
    import importlib.util
    import json
    import os

    spec = importlib.util.spec_from_file_location("render", ROOT / "deploy/grafana/render.py")
    assert spec is not None
    assert spec.loader is not None
    render = importlib.util.module_from_spec(spec)
    sys.modules["render"] = render
    spec.loader.exec_module(render)
    out = Path(os.environ.get("RENDER_DASHBOARDS_TO") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        svg, drawn = render.render(dashboard, _query_range(prometheus))
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert drawn == len(panels), f"{path.name}: {len(panels) - drawn} panel(s) drew nothing"
        (out / path.with_suffix(".svg").name).write_text(svg)
