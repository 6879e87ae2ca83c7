"""`complaints classify FILE`: the classifier's figures on a labelled set, no broker needed."""

from __future__ import annotations

import json
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
    load_corpus,
    load_labelled,
    stream_scenarios,
)
from complaints_classifier.live_rules import build_classifier
from complaints_classifier.rules_file import RulesFileError, load_rules
from complaints_classifier.settings import ClassifierSettings
from complaints_cli.corrections import export_corrections as write_corrections
from complaints_kit.settings import KafkaSettings

console = Console(width=120)


def classify(
    file: Annotated[
        Path | None,
        typer.Argument(help="Labelled complaints (JSON Lines), or a corpus folder (split.yaml)."),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="Rules YAML (default: CLASSIFIER_RULES_FILE).")
    ] = None,
    part: Annotated[str, typer.Option(help="With a corpus folder: train or holdout.")] = "holdout",
    misses: Annotated[bool, typer.Option(help="List every wrong decision.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")
    ] = False,
    export_corrections: Annotated[
        Path | None,
        typer.Option(
            help="Write people's reclassifications (from the topics) as labelled examples here."
        ),
    ] = None,
) -> None:
    """Precision, recall and F1 per class and a confusion matrix for category, severity and
    scope, with the rules and the model they name."""
    if export_corrections is not None:
        written = write_corrections(KafkaSettings(), export_corrections)
        typer.echo(f"{written} corrected complaint(s) -> {export_corrections}")
        return
    if file is None:
        typer.echo("name a labelled file or corpus folder, or --export-corrections OUT", err=True)
        raise typer.Exit(2)
    rules_path = rules or ClassifierSettings().rules_path()
    try:
        rule_set = load_rules(rules_path)
        classifier = build_classifier(rule_set, rules_path=rules_path)
    except RulesFileError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    try:
        labelled = load_corpus(file, part) if file.is_dir() else load_labelled(file)
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(str(exc).splitlines()[0], err=True)
        raise typer.Exit(2) from exc
    result = evaluate(rule_set, labelled, classifier)
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "complaints": len(labelled),
                    "model": classifier.judge.version if classifier.judge else None,
                    "needs_triage": sum(e.needs_triage for e in result.events),
                    **{d: r.as_json() for d, r in result.reports.items()},
                },
                indent=2,
            )
        )
        return
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
        f"macro recall {report.macro('recall'):.3f}, macro F1 {report.macro('f1'):.3f}"
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
