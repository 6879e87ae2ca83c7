"""`complaints simulate` replays a generated history; shards give the same figures as one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

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


def test_simulate_reports_a_bad_line(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"type": "lifecycle", "data": {"complaint_id": "x"}}\n')
    result = CliRunner().invoke(
        app, ["simulate", "--policy", str(POLICY), "--input", str(history), "--workers", "1"]
    )
    assert result.exit_code != 0
    assert "missing" in result.output  # the path and line lead the message (wrapped by rich)
