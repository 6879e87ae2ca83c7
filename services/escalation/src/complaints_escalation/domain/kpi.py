"""The review's KPIs as facts of one state change: a clock met or missed (response within SLA,
T+3 closure), an escalation step for a department, a transfer between departments. Pure: the
state before and after in, facts out; a redelivered event (no change) yields none."""

from __future__ import annotations

from dataclasses import dataclass

from complaints_escalation.domain.state import ComplaintState, SlaClock


@dataclass(frozen=True, slots=True)
class ClockResult:
    """A clock settled: met (stopped by its deadline) or missed (its first breach fired)."""

    clock: str
    department: str
    met: bool


@dataclass(frozen=True, slots=True)
class DepartmentStep:
    department: str
    kind: str  # warning | breach


@dataclass(frozen=True, slots=True)
class Transfer:
    from_department: str
    to_department: str


Fact = ClockResult | DepartmentStep | Transfer


def _clock_id(clock: SlaClock) -> str:
    return clock.name if clock.cycle == 0 else f"{clock.name}#{clock.cycle}"


def _breached(fired: tuple[str, ...] | set[str], clock_id: str) -> bool:
    return any(key.startswith(f"{clock_id}:breach:") for key in fired)


def kpi_facts(before: ComplaintState | None, after: ComplaintState) -> list[Fact]:
    """What changed between two states of one complaint, as KPI facts."""
    if after.classification is None:
        return []
    department = after.classification.department
    facts: list[Fact] = []
    earlier = set(before.fired) if before is not None else set()
    breached_now: set[str] = set()
    for key in after.fired:
        if key in earlier:
            continue
        clock_id, kind, _level, _repeat = key.rsplit(":", 3)
        facts.append(DepartmentStep(department, kind))
        if kind == "breach" and not _breached(earlier, clock_id) and clock_id not in breached_now:
            breached_now.add(clock_id)
            facts.append(ClockResult(clock_id.split("#")[0], department, met=False))
    previous = {(_clock_id(c)): c for c in (before.clocks if before is not None else ())}
    for clock in after.clocks:
        was = previous.get(_clock_id(clock))
        if clock.stopped_at is None or (was is not None and was.stopped_at is not None):
            continue
        if _breached(after.fired, _clock_id(clock)):
            continue  # counted as missed when it breached
        facts.append(ClockResult(clock.name, department, met=clock.stopped_at <= clock.deadline))
    if (
        before is not None
        and before.classification is not None
        and after.transfers > before.transfers
    ):
        facts.append(Transfer(before.classification.department, department))
    return facts
