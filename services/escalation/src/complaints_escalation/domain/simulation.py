"""Replays complaints and lifecycle events through the transitions on a virtual clock."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from complaints_escalation.domain.calendar import CalendarError
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.report import Breakdown
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import (
    due_steps,
    next_due,
    on_classified,
    on_lifecycle,
    record_fired,
    unknown_expired,
)
from complaints_schemas.events import ComplaintClassified, ComplaintLifecycleEvent

HistoryEvent = ComplaintClassified | ComplaintLifecycleEvent


def event_time(event: HistoryEvent) -> datetime:
    if isinstance(event, ComplaintClassified):
        return event.classified_at
    return event.occurred_at


@dataclass
class Simulation:
    """The same transitions as the service; the due index is one heap on virtual time."""

    policy: EscalationPolicy
    states: dict[str, ComplaintState] = field(default_factory=dict)
    # (due instant as a POSIX timestamp, complaint id, token): floats compare fast.
    heap: list[tuple[float, str, int]] = field(default_factory=list)
    errors: int = 0
    events: int = 0
    fired: int = 0

    def provisional(self) -> tuple[int, int, frozenset[int]]:
        """Complaints and clocks whose deadlines ran on a provisional calendar, and the years."""
        clocks = [k for s in self.states.values() for k in s.clocks if k.provisional_years]
        complaints = sum(
            1 for s in self.states.values() if any(k.provisional_years for k in s.clocks)
        )
        return complaints, len(clocks), frozenset(y for k in clocks for y in k.provisional_years)

    def run(self, history: Iterable[HistoryEvent], *, until: datetime | None = None) -> Breakdown:
        """Apply events in time order, firing due steps in between; evaluate at `until`."""
        last: datetime | None = None
        for event in sorted(history, key=event_time):
            at = event_time(event)
            self.fire_until(at)
            self.apply(event)
            last = at
        end = until or last
        if end is not None:
            self.fire_until(end)
        breakdown = Breakdown.empty()
        if end is not None:
            for state in self.states.values():
                breakdown.add(state, now=end)
        return breakdown

    def apply(self, event: HistoryEvent) -> None:
        self.events += 1
        state = self.states.get(event.complaint_id)
        try:
            if isinstance(event, ComplaintClassified):
                result = on_classified(state, event, policy=self.policy)
            else:
                result = on_lifecycle(state, event, policy=self.policy)
        except CalendarError:
            self.errors += 1
            return
        self._store(result.state)

    def fire_until(self, now: datetime) -> None:
        heap, limit = self.heap, now.timestamp()
        while heap and heap[0][0] <= limit:
            _, complaint_id, token = heapq.heappop(heap)
            state = self.states.get(complaint_id)
            if state is None or state.version != token:
                continue  # superseded by a later schedule
            due_at = next_due(state)  # exact (the heap key is a rounded float)
            if due_at is None:
                continue
            if unknown_expired(state, token=token, now=due_at):
                del self.states[complaint_id]  # refused as unknown_complaint, as the service does
                continue
            steps = due_steps(state, token=token, now=due_at)
            if not steps:
                continue
            self.fired += len(steps)
            self._store(record_fired(state, tuple(step for step, _ in steps), at=due_at))

    def _store(self, state: ComplaintState) -> None:
        self.states[state.complaint_id] = state
        due = next_due(state)
        if due is not None:
            heapq.heappush(self.heap, (due.timestamp(), state.complaint_id, state.version))
