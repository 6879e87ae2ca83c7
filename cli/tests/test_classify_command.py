"""`complaints classify CORPUS --json`: the figures, common issues included, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from complaints_cli.main import app

RULES = Path(__file__).resolve().parents[2] / "config" / "classifier" / "rules.yaml"


def row(n: int, title: str, text: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"W-{n:04d}",
        "customer": {"id": f"W-c{n:04d}"},
        "channel": "app",
        "language": "zh",
        "title": title,
        "description": text,
        "expected": {"category": category, "severity": "yellow", "scope": "individual"},
        **extra,
    }


def corpus(tmp_path: Path) -> Path:
    writer = tmp_path / "writer_W"
    writer.mkdir()
    (tmp_path / "split.yaml").write_text("train: []\nholdout: [writer_W]\n")
    singles = [
        row(1, "退款", "退货已经寄回十天了，退款还没到账", "refund"),
        row(2, "快递", "快递三天没有更新物流信息", "logistics"),
    ]
    same = "优惠码 SPRING50 结账时提示无效，活动页面明明写着可以用"
    bursts = [
        row(10 + i, "优惠码无效", f"{same}（第{i}位顾客）", "policy_promotion", burst="W-B01")
        | {"minute": 10 * i}
        for i in range(6)
    ] + [
        row(20, "会员积分", "会员积分这个月没有到账", "policy_promotion", decoy_of="W-B01")
        | {"minute": 15}
    ]
    for name, rows in (("singles.jsonl", singles), ("bursts.jsonl", bursts)):
        (writer / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return tmp_path


def test_a_corpus_gives_its_figures_and_how_its_bursts_group(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["classify", str(corpus(tmp_path)), "--rules", str(RULES), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["complaints"] == 2
    common = figures["common_issues"]
    assert common["bursts_formed"] == "1/1"  # six near-copies of one report form one group
    assert common["decoys_merged"] == "0/1"
    assert 0 <= common["unrelated_same_category_pairs_merged"] <= 1


def test_a_malformed_burst_line_is_named_in_one_line(tmp_path: Path) -> None:
    folder = corpus(tmp_path)
    with (folder / "writer_W" / "bursts.jsonl").open("a") as out:
        out.write("{not json\n")
    result = CliRunner().invoke(app, ["classify", str(folder), "--rules", str(RULES)])
    assert result.exit_code == 2
    assert "bursts.jsonl: line 8" in result.output
    assert "Traceback" not in result.output
