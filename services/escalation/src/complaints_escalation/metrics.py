"""Escalation metrics, registered on the CollectorRegistry passed in."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from complaints_schemas.events import Severity

# Edges at 10, 50, 100, 250, 500 and 1000 ms (the issue's), and the foundation's longer tail.
FIRE_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class EscalationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "complaints_escalation_events_total",
            "Records handled, by source (classified, lifecycle, timer).",
            ["source"],
            registry=registry,
        )
        self.open_complaints = Gauge(
            "complaints_escalation_open_complaints",
            "Open complaints on this worker's partitions, by severity.",
            ["severity"],
            registry=registry,
        )
        self.escalations = Counter(
            "complaints_escalation_escalations_total",
            "Escalation steps published, by kind and level.",
            ["kind", "level"],
            registry=registry,
        )
        self.fire_lag = Histogram(
            "complaints_escalation_fire_lag_seconds",
            "Processing instant minus due instant of each escalation step.",
            buckets=FIRE_LAG_BUCKETS,
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_escalation_rejected_total",
            "Input records sent to complaints.rejected.v1, by reason.",
            ["reason"],
            registry=registry,
        )
        self.transitions = Counter(
            "complaints_escalation_transitions_total",
            "Outcomes of classified and lifecycle events on a complaint's state.",
            ["source", "outcome"],
            registry=registry,
        )
        self.due_dropped = Counter(
            "complaints_escalation_due_dropped_total",
            "Due messages that fired nothing (stale token, nothing due, unknown, invalid).",
            ["reason"],
            registry=registry,
        )
        self.pending_timers = Gauge(
            "complaints_escalation_pending_timers",
            "Complaints with a pending due instant in this worker's index.",
            registry=registry,
        )
        self.index_rebuild_seconds = Gauge(
            "complaints_escalation_index_rebuild_seconds",
            "Duration of the last due-index rebuild after partition assignment.",
            registry=registry,
        )
        self.recovered_states = Gauge(
            "complaints_escalation_recovered_states",
            "States found in the table at the last rebuild (assigned partitions).",
            registry=registry,
        )
        self.open_by_department = Gauge(
            "complaints_escalation_open_complaints_by_department",
            "Open complaints on this worker's partitions, by severity and department.",
            ["severity", "department"],
            registry=registry,
        )
        self.steps = Counter(
            "complaints_escalation_steps_total",
            "Warnings and breach steps published, by clock and kind.",
            ["clock", "kind"],
            registry=registry,
        )
        self.recovery_seconds = Gauge(
            "complaints_escalation_recovery_seconds",
            "Start (or revocation) to ready: table recovered and due index rebuilt.",
            registry=registry,
        )
        self.holiday_last_year = Gauge(
            "complaints_escalation_holiday_data_last_year",
            "Last year official holiday data covers; later years are computed provisionally.",
            registry=registry,
        )
        self.calendar_covered_until = Gauge(
            "complaints_escalation_calendar_covered_until_timestamp_seconds",
            "End of the last day official holiday data covers, per calendar that uses it.",
            ["calendar"],
            registry=registry,
        )
        self.provisional_clocks = Counter(
            "complaints_escalation_provisional_clocks_total",
            "Clocks whose deadline was computed on a provisional calendar (no official "
            "holiday data for that year), by calendar and year.",
            ["calendar", "year"],
            registry=registry,
        )
        self.calendar_errors = Counter(
            "complaints_escalation_calendar_errors_total",
            "Records dead-lettered because a deadline could not be computed.",
            ["reason"],
            registry=registry,
        )
        for severity in Severity:
            self.open_complaints.labels(severity.value).set(0)
        for source in ("classified", "lifecycle", "timer"):
            self.events.labels(source)


class OpenComplaints:
    """Which complaints are open on this worker's partitions; counts kept incrementally.

    Gauges are set for the labels that changed, at `publish`: once per event, and once after
    a rebuild of a million complaints rather than a million times.
    """

    def __init__(self, gauge: Gauge, by_department: Gauge | None = None) -> None:
        self._gauge = gauge
        self._by_department = by_department
        # complaint id -> code of its (partition, severity, department): one shared int object
        # per combination instead of a tuple per complaint (a million of them add up).
        self._open: dict[str, int] = {}
        self._codes: dict[tuple[int, str, str], int] = {}
        self._entries: list[tuple[int, str, str]] = []
        self._severity: Tally[str] = Tally()
        self._pairs: Tally[tuple[str, str]] = Tally()
        self._changed: set[tuple[str, str]] = set()

    def update(
        self,
        *,
        complaint_id: str,
        partition: int,
        severity: str | None,
        department: str | None = None,
        publish: bool = True,
    ) -> None:
        old = self._open.pop(complaint_id, None)
        if old is not None:
            self._count(self._entries[old], -1)
        if severity is not None:
            entry = (partition, severity, department or "unknown")
            code = self._codes.get(entry)
            if code is None:
                code = self._codes[entry] = len(self._entries)
                self._entries.append(entry)
            self._open[complaint_id] = code
            self._count(entry, 1)
        if publish:
            self.publish()

    def keep_only(self, partitions: Iterable[int]) -> None:
        owned = set(partitions)
        for cid, code in list(self._open.items()):
            entry = self._entries[code]
            if entry[0] not in owned:
                del self._open[cid]
                self._count(entry, -1)
        self.publish()

    def publish(self) -> None:
        for severity, department in self._changed:
            self._gauge.labels(severity).set(self._severity[severity])
            if self._by_department is not None:
                self._by_department.labels(severity, department).set(
                    self._pairs[(severity, department)]
                )
        self._changed.clear()

    def _count(self, entry: tuple[int, str, str], delta: int) -> None:
        _, severity, department = entry
        self._severity[severity] += delta
        self._pairs[(severity, department)] += delta
        self._changed.add((severity, department))


REMAINING_EDGES = (0.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0)


class RemainingTime(Collector):
    """Time to each open complaint's next step, counted at scrape time by upper bound."""

    def __init__(
        self, *, due_instants: Callable[[], Iterable[datetime]], now: Callable[[], datetime]
    ) -> None:
        self._due = due_instants
        self._now = now

    def collect(self) -> Iterator[Metric]:
        now = self._now()
        counts = [0] * (len(REMAINING_EDGES) + 1)
        for due in self._due():
            counts[bisect_left(REMAINING_EDGES, (due - now).total_seconds())] += 1
        family = GaugeMetricFamily(
            "complaints_escalation_next_step_remaining",
            "Open complaints whose next warning or escalation is due within `le` seconds "
            "(cumulative; le=0: overdue).",
            labels=["le"],
        )
        running = 0
        for edge, n in zip((*REMAINING_EDGES, float("inf")), counts, strict=True):
            running += n
            family.add_metric(["+Inf" if edge == float("inf") else str(edge)], running)
        yield family
