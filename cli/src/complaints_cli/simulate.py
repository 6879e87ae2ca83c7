"""`complaints simulate`: replay a history through the escalation domain on a virtual clock."""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from complaints_escalation.domain.report import Breakdown, Tally
from complaints_escalation.domain.simulation import HistoryEvent, Simulation, event_time
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_schemas.events import ComplaintClassified, ComplaintLifecycleEvent

console = Console()


class _Classified(BaseModel):
    type: Literal["classified"]
    data: ComplaintClassified


class _Lifecycle(BaseModel):
    type: Literal["lifecycle"]
    data: ComplaintLifecycleEvent


# One validation per line, in pydantic's core (the format is checked, not trusted).
_LINE: TypeAdapter[_Classified | _Lifecycle] = TypeAdapter(
    Annotated[_Classified | _Lifecycle, Field(discriminator="type")]
)


_COMPLAINT_ID = re.compile(rb'"complaint_id"\s*:\s*"([^"]*)"')
_EVENT_TIME = re.compile(rb'"(?:classified_at|occurred_at)"\s*:\s*"([^"]*)"')


def read_history(
    path: Path, *, shard: int = 0, shards: int = 1, horizon: list[datetime] | None = None
) -> Iterator[HistoryEvent]:
    """JSON Lines of {"type": "classified"|"lifecycle", "data": <event JSON>}.

    With several shards, only the lines of this shard's complaints (by a hash of the id, as
    Kafka partitions them) are validated; complaints are independent of each other.
    """
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            if shards > 1:
                found = _COMPLAINT_ID.search(line)
                if found is None or zlib.crc32(found.group(1)) % shards != shard:
                    if found is None and shard == 0:
                        raise typer.BadParameter(f"{path}:{number}: no complaint_id")
                    # Every shard is evaluated at the same instant: the history's last.
                    at = _EVENT_TIME.search(line)
                    if horizon is not None and at is not None:
                        horizon.append(
                            max(horizon.pop(), datetime.fromisoformat(at.group(1).decode()))
                        )
                    continue
            try:
                yield _LINE.validate_json(line).data
            except ValidationError as exc:
                raise typer.BadParameter(f"{path}:{number}: {exc}") from exc


def simulate(
    policy: Annotated[Path, typer.Option(help="Policy YAML (as config/escalation/policy.yaml).")],
    input: Annotated[Path, typer.Option("--input", help="History as JSON Lines.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Processes, each replaying a shard of complaints (0: one a core).")
    ] = 0,
) -> None:
    """Replay complaints and lifecycle events through the escalation rules; no broker."""
    started = time.perf_counter()
    try:
        rules = load_policy(policy, holiday_data=load_chinese_holidays())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    shards = max(1, workers or os.cpu_count() or 1)
    if shards == 1:
        results = [_run_shard(policy, input, 0, 1)]
    else:
        with ProcessPoolExecutor(max_workers=shards) as pool:
            results = list(
                pool.map(
                    _run_shard,
                    [policy] * shards,
                    [input] * shards,
                    range(shards),
                    [shards] * shards,
                )
            )
    breakdown = Breakdown.empty()
    for shard in results:
        breakdown.merge(shard.breakdown)
    done = time.perf_counter()
    _print(breakdown, title=f"policy {rules.version}: {breakdown.complaints} complaints")
    errors = sum(r.errors for r in results)
    provisional = sum(r.provisional_complaints for r in results)
    years = sorted(set().union(*(r.provisional_years for r in results)))
    console.print(
        f"{sum(r.events for r in results)} events, {sum(r.fired for r in results)} "
        f"warnings/escalations, {errors} calendar errors; "
        f"{shards} worker(s); total {done - started:.1f} s"
    )
    console.print(
        f"{provisional} complaints ({sum(r.provisional_clocks for r in results)} clocks) ran on "
        "a provisional calendar"
        + (f" for {', '.join(map(str, years))} (no official holiday data)" if years else "")
    )
    if json_out is not None:
        figures = _as_json(breakdown) | {
            "calendar_errors": errors,
            "provisional": {
                "complaints": provisional,
                "clocks": sum(r.provisional_clocks for r in results),
                "years": years,
            },
        }
        json_out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


@dataclass
class ShardResult:
    breakdown: Breakdown
    events: int
    fired: int
    errors: int
    provisional_complaints: int
    provisional_clocks: int
    provisional_years: frozenset[int]


def _run_shard(policy_path: Path, history_path: Path, shard: int, shards: int) -> ShardResult:
    """One process: load the policy, read its share of the history, replay it."""
    rules = load_policy(policy_path, holiday_data=load_chinese_holidays())
    sim = Simulation(policy=rules)
    horizon = [datetime.min.replace(tzinfo=UTC)]
    events = list(read_history(history_path, shard=shard, shards=shards, horizon=horizon))
    last = max([horizon[0], *(event_time(e) for e in events)])
    breakdown = sim.run(events, until=last)
    complaints, clocks, years = sim.provisional()
    return ShardResult(
        breakdown=breakdown,
        events=sim.events,
        fired=sim.fired,
        errors=sim.errors,
        provisional_complaints=complaints,
        provisional_clocks=clocks,
        provisional_years=years,
    )


def _print(b: Breakdown, *, title: str) -> None:
    table = Table(title=title)
    for column in ("clock", "by", "met", "breached", "open", "compliance"):
        table.add_column(column, justify="left" if column in ("clock", "by") else "right")

    def row(clock: str, by: str, t: Tally) -> None:
        c = t.compliance
        table.add_row(
            clock, by, str(t.met), str(t.breached), str(t.open), "-" if c is None else f"{c:.1%}"
        )

    for clock, tally in sorted(b.by_clock.items()):
        row(clock, "all", tally)
        for (name, severity), t in sorted(b.by_severity.items()):
            if name == clock:
                row("", f"severity {severity}", t)
        for (name, department), t in sorted(b.by_department.items()):
            if name == clock:
                row("", f"dept {department}", t)
    console.print(table)
    levels: dict[str, int] = {}
    for (kind, level, _), n in b.escalations.items():
        key = kind if kind == "warning" else f"breach level {level}"
        levels[key] = levels.get(key, 0) + n
    console.print("steps fired: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))


def _as_json(b: Breakdown) -> dict[str, Any]:
    return {
        "complaints": b.complaints,
        "by_clock": {k: t.as_json() for k, t in b.by_clock.items()},
        "by_severity": {f"{c}/{s}": t.as_json() for (c, s), t in b.by_severity.items()},
        "by_department": {f"{c}/{d}": t.as_json() for (c, d), t in b.by_department.items()},
        "escalations": {f"{k}/{lv}/{d}": n for (k, lv, d), n in b.escalations.items()},
    }
