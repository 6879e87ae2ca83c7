"""Grafana dashboards as code (grafana-foundation-sdk, types for Grafana 10.1, the version in
docker-compose.yml). `uv run python deploy/grafana/dashboards.py` writes dashboards/*.json;
`--check` fails when the committed JSON is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUT = Path(__file__).parent / "dashboards"
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"


@dataclass(frozen=True)
class P:
    """One panel: a title, its queries (expr, legend) and a unit."""

    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"
    stat: bool = False
    # A count of events: whole numbers. increase() extrapolates to the window's edges (2.111
    # breaches), so the query is rounded and the panel shows no decimals.
    count: bool = False
    decimals: int | None = None


def _panel(spec: P) -> Any:
    panel = (Stat() if spec.stat else Timeseries()).title(spec.title).unit(spec.unit).datasource(DS)
    for ref, (expr, legend) in zip("ABCDEFGH", spec.queries, strict=False):
        text = counted(expr) if spec.count else expr
        query = Dataquery().expr(text).legend_format(legend).ref_id(ref).datasource(DS)
        panel = panel.with_target(query)
    decimals = 0 if spec.count else spec.decimals
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel.height(8).span(12 if not spec.stat else 6)


def counted(expr: str) -> str:
    """A count query as whole numbers (already rounded: left as it is)."""
    return expr if expr.startswith("round(") else f"round({expr})"


def _dashboard(
    uid: str, title: str, rows: dict[str, list[P]], *, time_from: str = "now-1h"
) -> dict[str, Any]:
    builder = (
        Dashboard(title)
        .uid(uid)
        .tags(["complaints", "generated"])
        .refresh("30s")
        .time(time_from, "now")
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    for row, panels in rows.items():
        builder = builder.with_row(Row(row))
        for spec in panels:
            builder = builder.with_panel(_panel(spec))
    encoded: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return encoded


def quantile(q: float, histogram: str, by: str = "") -> str:
    groups = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({groups}) (rate({histogram}_bucket[{RATE}])))"


def per_second(counter: str, by: str) -> str:
    return f"sum by ({by}) (rate({counter}[{RATE}]))"


def _q(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return pairs


PIPELINE = _dashboard(
    "complaints-pipeline",
    "Complaints / Pipeline health",
    {
        "Flow": [
            P(
                "Accepted complaints per second by source",
                _q(
                    (
                        per_second("complaints_intake_accepted_total", "source"),
                        "{{source}}",
                    )
                ),
                "reqps",
            ),
            P(
                "Classified per second by scope",
                _q(
                    (
                        per_second("complaints_classifier_classified_total", "scope"),
                        "{{scope}}",
                    )
                ),
                "reqps",
            ),
            P(
                "Escalation inputs per second",
                _q(
                    (
                        per_second("complaints_escalation_events_total", "source"),
                        "{{source}}",
                    )
                ),
                "reqps",
            ),
            P(
                "Consumer lag by group and topic",
                _q(
                    (
                        "sum by (group, topic) (complaints_kafka_consumer_lag_messages)",
                        "{{group}} {{topic}}",
                    )
                ),
            ),
        ],
        "Errors": [
            P(
                "Rejected input (dead letters and 4xx) by reason",
                _q(
                    (
                        per_second("complaints_intake_rejected_total", "reason, source"),
                        "intake {{source}} {{reason}}",
                    ),
                    (
                        per_second("complaints_classifier_rejected_total", "reason"),
                        "classifier {{reason}}",
                    ),
                    (
                        per_second("complaints_escalation_rejected_total", "reason"),
                        "escalation {{reason}}",
                    ),
                    (
                        per_second("complaints_notifier_rejected_total", "reason"),
                        "notifier {{reason}}",
                    ),
                ),
                "reqps",
            ),
            P(
                "Intake HTTP requests by status",
                _q(
                    (
                        per_second("complaints_http_requests_total", "status"),
                        "{{status}}",
                    )
                ),
                "reqps",
            ),
        ],
        "Duration": [
            P(
                "Intake HTTP p99 by route",
                _q(
                    (
                        "histogram_quantile(0.99, sum by (le, route) "
                        f"(rate(complaints_http_request_duration_seconds_bucket[{RATE}])))",
                        "{{route}}",
                    ),
                ),
                "s",
            ),
            P(
                "Classification p50 / p99",
                _q(
                    (
                        quantile(0.5, "complaints_classifier_duration_seconds"),
                        "p50",
                    ),
                    (
                        quantile(0.99, "complaints_classifier_duration_seconds"),
                        "p99",
                    ),
                ),
                "s",
            ),
        ],
    },
)

SLA = _dashboard(
    "complaints-sla",
    "Complaints / SLA and escalations",
    {
        "Now": [
            P(
                "Open complaints",
                _q(("sum(complaints_escalation_open_complaints)", "open")),
                stat=True,
                count=True,
            ),
            P(
                "Pending timers",
                _q(("sum(complaints_escalation_pending_timers)", "timers")),
                stat=True,
                count=True,
            ),
            P(
                "Breaches in the last 24 h",
                _q(
                    (
                        'sum(increase(complaints_escalation_escalations_total{kind="breach"}[24h]))',
                        "breaches",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Common clusters opened in the last 24 h",
                _q(("sum(increase(complaints_classifier_clusters_opened_total[24h]))", "clusters")),
                stat=True,
                count=True,
            ),
            P(
                "At risk: next step due within 15 min",
                _q(('sum(complaints_escalation_next_step_remaining{le="900.0"})', "at risk")),
                stat=True,
                count=True,
            ),
            P(
                "T+3 closure breaches in the last 24 h",
                _q(
                    (
                        'round(sum(increase(complaints_escalation_steps_total{clock="closure", '
                        'kind="breach"}[24h]))) or vector(0)',
                        "T+3 breaches",
                    ),
                ),
                stat=True,
                count=True,
            ),
            P(
                "Open complaints by department",
                _q(
                    (
                        "sum by (department) (complaints_escalation_open_complaints_by_department)",
                        "{{department}}",
                    ),
                ),
            ),
            P(
                "Top common issues: clusters opened in 24 h by category",
                _q(
                    (
                        "topk(5, round(sum by (category) "
                        "(increase(complaints_classifier_clusters_opened_total[24h]))))",
                        "{{category}}",
                    ),
                ),
                count=True,
            ),
            P(
                "Warnings and breaches by clock",
                _q(
                    (
                        per_second("complaints_escalation_steps_total", "clock, kind"),
                        "{{clock}} {{kind}}",
                    )
                ),
                "reqps",
            ),
            P(
                "Open complaints by severity",
                _q(("sum by (severity) (complaints_escalation_open_complaints)", "{{severity}}")),
                count=True,
            ),
            P(
                "Escalations by kind and level",
                _q(
                    (
                        per_second("complaints_escalation_escalations_total", "kind, level"),
                        "{{kind}} L{{level}}",
                    )
                ),
                "reqps",
            ),
        ],
        "Timers": [
            P(
                "Timer fire lag p50 / p99",
                _q(
                    (
                        quantile(0.5, "complaints_escalation_fire_lag_seconds"),
                        "p50",
                    ),
                    (
                        quantile(0.99, "complaints_escalation_fire_lag_seconds"),
                        "p99",
                    ),
                ),
                "s",
            ),
            P(
                "Complaints classified by severity",
                _q(
                    (
                        per_second("complaints_classifier_classified_total", "severity"),
                        "{{severity}}",
                    )
                ),
                "reqps",
            ),
        ],
    },
)

NOTIFIER = _dashboard(
    "complaints-notifier",
    "Complaints / Notifications",
    {
        "Delivery": [
            P(
                "Deliveries by channel and outcome",
                _q(
                    (
                        per_second("complaints_notifier_deliveries_total", "channel, outcome"),
                        "{{channel}} {{outcome}}",
                    )
                ),
                "reqps",
            ),
            P(
                "Escalation to delivery p99 by channel",
                _q(
                    (
                        "histogram_quantile(0.99, sum by (le, channel) "
                        f"(rate(complaints_notifier_delivery_latency_seconds_bucket[{RATE}])))",
                        "{{channel}}",
                    ),
                ),
                "s",
            ),
            P(
                "Retries by channel",
                _q(
                    (
                        per_second("complaints_notifier_retries_total", "channel"),
                        "{{channel}}",
                    )
                ),
                "reqps",
            ),
            P("Deliveries in flight", _q(("sum(complaints_notifier_in_flight)", "in flight"))),
        ],
    },
)

RANGE = "$__range"  # the dashboard's time range: a month for the monthly review
CLUSTERS_OPENED = "complaints_classifier_clusters_opened_total"


def within_sla(clock: str, by: str = "") -> str:
    """Clocks met over clocks settled (met, or missed at their first breach) in the range."""
    group = f" by ({by})" if by else ""
    settled = f'complaints_escalation_clock_results_total{{clock="{clock}"'
    return (
        f'sum{group} (increase({settled}, result="met"}}[{RANGE}])) '
        f"/ sum{group} (increase({settled}}}[{RANGE}]))"
    )


def in_range(counter: str, by: str) -> str:
    return f"sum by ({by}) (increase({counter}[{RANGE}]))"


KPI = _dashboard(
    "complaints-kpi",
    "Complaints / Monthly review KPIs",
    {
        "SLA compliance": [
            P(
                "Response within SLA",
                _q((within_sla("response"), "response")),
                "percentunit",
                stat=True,
                decimals=1,
            ),
            P(
                "T+3 closure within SLA",
                _q((within_sla("closure"), "T+3")),
                "percentunit",
                stat=True,
                decimals=1,
            ),
            P(
                "Complaints settled on the response clock",
                _q(
                    (
                        in_range(
                            'complaints_escalation_clock_results_total{clock="response"}', "result"
                        ),
                        "{{result}}",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Common clusters opened",
                _q(
                    (
                        f"sum(increase(complaints_classifier_clusters_opened_total[{RANGE}]))",
                        "clusters",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Response within SLA by department",
                _q((within_sla("response", "department"), "{{department}}")),
                "percentunit",
                stat=True,
                decimals=1,
            ),
            P(
                "T+3 closure within SLA by department",
                _q((within_sla("closure", "department"), "{{department}}")),
                "percentunit",
                stat=True,
                decimals=1,
            ),
        ],
        "Issues and departments": [
            P(
                "Top 5 common issues (clusters opened by category)",
                _q(
                    (
                        f"topk(5, {in_range(CLUSTERS_OPENED, 'category')})",
                        "{{category}}",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Escalations by department",
                _q(
                    (
                        in_range(
                            "complaints_escalation_department_steps_total", "department, kind"
                        ),
                        "{{department}} {{kind}}",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Transfers out of each department",
                _q(
                    (
                        in_range(
                            'complaints_escalation_transfers_total{direction="out"}', "department"
                        ),
                        "{{department}}",
                    )
                ),
                stat=True,
                count=True,
            ),
            P(
                "Transfers into each department",
                _q(
                    (
                        in_range(
                            'complaints_escalation_transfers_total{direction="in"}', "department"
                        ),
                        "{{department}}",
                    )
                ),
                stat=True,
                count=True,
            ),
        ],
    },
    time_from="now-30d",
)

DASHBOARDS = {
    "pipeline.json": PIPELINE,
    "sla.json": SLA,
    "notifier.json": NOTIFIER,
    "kpi.json": KPI,
}


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) for every query of every panel."""
    found = []
    for name, dashboard in DASHBOARDS.items():
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((name, panel["title"], target["expr"]))
    return found


def _text(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = [
        n
        for n, d in DASHBOARDS.items()
        if not (OUT / n).exists() or (OUT / n).read_text() != _text(d)
    ]
    if args.check:
        for name in stale:
            print(f"stale: {OUT / name}", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, dashboard in DASHBOARDS.items():
        (OUT / name).write_text(_text(dashboard))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
