"""KPI metrics recorded from every state the store writes (domain/kpi.py): response within
SLA and T+3 closure by department, escalation steps and transfers by department. A store
wrapper, so the handlers stay as they are."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter

from complaints_escalation.domain.kpi import ClockResult, DepartmentStep, Transfer, kpi_facts
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.outbound.retention import DeletableStore
from complaints_escalation.outbound.state_codec import Summary


class KpiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.clock_results = Counter(
            "complaints_escalation_clock_results_total",
            "Clocks settled: met (stopped by the deadline) or missed (first breach), by clock "
            "and department.",
            ["clock", "department", "result"],
            registry=registry,
        )
        self.department_steps = Counter(
            "complaints_escalation_department_steps_total",
            "Warnings and breaches published, by the complaint's department.",
            ["department", "kind"],
            registry=registry,
        )
        self.transfers = Counter(
            "complaints_escalation_transfers_total",
            "Complaints transferred out of (direction=out) and into (in) a department.",
            ["department", "direction"],
            registry=registry,
        )

    def start_at_zero(self, state: ComplaintState) -> None:
        """Create a department's series at 0 when its first complaint arrives: a counter
        first seen at 1 would never count that 1 in increase() (no earlier sample)."""
        c = state.classification
        if c is None:
            return
        for clock in state.clocks:
            for result in ("met", "missed"):
                self.clock_results.labels(clock.name, c.department, result)
        for kind in ("warning", "breach"):
            self.department_steps.labels(c.department, kind)
        for direction in ("out", "in"):
            self.transfers.labels(c.department, direction)


class KpiStore:
    """A state store that records the KPI facts of each write, then writes."""

    def __init__(self, inner: DeletableStore, metrics: KpiMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def get(self, complaint_id: str) -> ComplaintState | None:
        return self._inner.get(complaint_id)

    def version(self, complaint_id: str) -> int | None:
        return self._inner.version(complaint_id)

    def put(self, state: ComplaintState, *, partition: int) -> None:
        before = self._inner.get(state.complaint_id)  # decoded already: the handler read it
        self._inner.put(state, partition=partition)
        if state.classification is not None and (
            before is None
            or before.classification is None
            or before.classification.department != state.classification.department
            or len(before.clocks) != len(state.clocks)
        ):
            self._metrics.start_at_zero(state)
        for fact in kpi_facts(before, state):
            if isinstance(fact, ClockResult):
                result = "met" if fact.met else "missed"
                self._metrics.clock_results.labels(fact.clock, fact.department, result).inc()
            elif isinstance(fact, DepartmentStep):
                self._metrics.department_steps.labels(fact.department, fact.kind).inc()
            elif isinstance(fact, Transfer):
                self._metrics.transfers.labels(fact.from_department, "out").inc()
                self._metrics.transfers.labels(fact.to_department, "in").inc()

    def delete(self, complaint_id: str) -> None:
        self._inner.delete(complaint_id)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        return self._inner.entries()

    def summaries(self) -> Iterator[Summary]:
        return self._inner.summaries()
