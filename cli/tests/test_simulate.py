"""`complaints simulate` replays a generated history; shards give the same figures as one."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from complaints_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "config" / "escalation" / "policy.yaml"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("sim_history", ROOT / "bench" / "sim_history.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_simulate_prints_compliance_and_shards_agree(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    events = sorted(_generator().history(300, days=5, seed=3), key=lambda e: e[0])
    history.write_text("".join(json.dumps({"type": k, "data": d}) + "\n" for _, k, d in events))
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"sim{workers}.json"
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "--policy",
                str(POLICY),
                "--input",
                str(history),
                "--json",
                str(out),
                "--workers",
                str(workers),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "response" in result.output
        assert "compliance" in result.output
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1]
    figures = outputs[0]
    assert figures["complaints"] == 300
    assert set(figures["by_clock"]) >= {"response", "resolution", "closure"}
    response = figures["by_clock"]["response"]
    assert response["met"] + response["breached"] + response["open"] == 300


def test_a_daily_history_across_the_year_end_has_every_clock_and_no_error(
    tmp_path: Path,
) -> None:
    """72 complaints, one a day from 2026-12-20 to 2027-03-01, past chinese-calendar's 2026."""
    start = datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    events = sorted(
        _generator().history(72, days=72, seed=5, start=start, daily=True), key=lambda e: e[0]
    )
    history = tmp_path / "year-end.jsonl"
    history.write_text("".join(json.dumps({"type": k, "data": d}) + "\n" for _, k, d in events))
    out = tmp_path / "year-end.json"
    args = ["simulate", "--policy", str(POLICY), "--input", str(history), "--json", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["complaints"] == 72
    assert figures["calendar_errors"] == 0
    for clock in ("response", "resolution", "closure"):
        tally = figures["by_clock"][clock]
        assert tally["met"] + tally["breached"] + tally["open"] == 72, clock
    provisional = figures["provisional"]
    assert provisional["years"] == [2027]
    assert 60 <= provisional["complaints"] <= 72
    assert "ran on a provisional calendar for 2027" in result.output


def test_simulate_reports_a_bad_line(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"type": "lifecycle", "data": {"complaint_id": "x"}}\n')
    result = CliRunner().invoke(
        app, ["simulate", "--policy", str(POLICY), "--input", str(history), "--workers", "1"]
    )
    assert result.exit_code != 0
    assert "missing" in result.output  # the path and line lead the message (wrapped by rich)


def test_report_merges_workers() -> None:
    from complaints_cli.report import merge

    one = {
        "complaints": 2,
        "transfers_per_complaint": 0.5,
        "warnings": 1,
        "response_within_sla": {"met": 1, "breached": 1, "open": 0},
        "resolution_within_sla": {"met": 0, "breached": 0, "open": 2},
        "t3_closure": {"met": 2, "breached": 0, "open": 0},
        "escalations_by_level": {"1": 1},
        "escalations_by_department": {"payments": 1},
        "top_common_issues": [{"category": "delivery", "complaints": 2}],
    }
    merged = merge([one, one])
    assert merged["complaints"] == 4
    assert merged["response_within_sla"]["compliance"] == 0.5
    assert merged["transfers_per_complaint"] == 0.5
    assert merged["escalations_by_level"] == {"1": 2}
    assert merged["top_common_issues"] == [("delivery", 4)]
