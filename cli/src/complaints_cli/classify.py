"""`complaints classify FILE`: the classifier's figures on a labelled set, no broker needed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from complaints_classifier.evaluation import (
    ClassReport,
    evaluate,
    load_labelled,
    stream_scenarios,
)
from complaints_classifier.rules_file import RulesFileError, load_rules
from complaints_classifier.settings import ClassifierSettings

console = Console(width=120)


def classify(
    file: Annotated[Path, typer.Argument(help="Labelled complaints, JSON Lines.")],
    rules: Annotated[
        Path | None, typer.Option(help="Rules YAML (default: CLASSIFIER_RULES_FILE).")
    ] = None,
    misses: Annotated[bool, typer.Option(help="List every wrong decision.")] = False,
) -> None:
    """Precision and recall per class and a confusion matrix for category, severity and scope."""
    rules_path = rules or ClassifierSettings().rules_path()
    try:
        rule_set = load_rules(rules_path)
    except RulesFileError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    labelled = load_labelled(file)
    result = evaluate(rule_set, labelled)
    console.print(f"{len(labelled)} labelled complaints from {file}; rules {rules_path}")
    for report in result.reports.values():
        _print_report(report)
    if misses:
        table = Table(title="Wrong decisions")
        for column in ("complaint", "decision", "expected", "predicted"):
            table.add_column(column)
        for row in result.misses:
            table.add_row(*row)
        console.print(table)
    for scenario in stream_scenarios(rule_set, start=datetime(2025, 1, 6, tzinfo=UTC)):
        mark = "[green]pass[/]" if scenario.passed else "[red]FAIL[/]"
        console.print(f"stream: {scenario.name}: {mark} ({scenario.detail})")


def _print_report(report: ClassReport) -> None:
    figures = Table(
        title=f"{report.dimension}: accuracy {report.accuracy:.3f}, "
        f"macro precision {report.macro('precision'):.3f}, "
        f"macro recall {report.macro('recall'):.3f}"
    )
    for column in ("class", "support", "predicted", "precision", "recall"):
        figures.add_column(column, justify="left" if column == "class" else "right")
    for label in report.labels:
        figures.add_row(
            label,
            str(report.support(label)),
            str(report.predicted(label)),
            _figure(report.precision(label)),
            _figure(report.recall(label)),
        )
    console.print(figures)
    matrix = Table(
        title=f"{report.dimension}: confusion (rows expected, columns predicted, first 4 letters)"
    )
    matrix.add_column("expected", no_wrap=True)
    for label in report.labels:
        matrix.add_column(label[:4], justify="right", no_wrap=True)
    for expected in report.labels:
        row = report.confusion.get(expected) or Counter[str]()
        matrix.add_row(expected, *(str(row.get(p, 0) or ".") for p in report.labels))
    console.print(matrix)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
