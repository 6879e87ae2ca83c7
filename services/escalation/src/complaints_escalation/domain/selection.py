"""Which open complaints an operator's step applies to: a query, not only a list of ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaints_escalation.domain.state import ComplaintState, Status

OPEN = (Status.OPEN, Status.RESOLVED)


@dataclass(frozen=True, slots=True)
class Selection:
    """Open complaints matching every criterion given (none given: every open complaint)."""

    provisional: bool = False  # only those with a clock on a provisional calendar
    calendar: str | None = None  # only those with a running clock on this calendar
    department: str | None = None
    accepted_from: datetime | None = None  # inclusive
    accepted_until: datetime | None = None  # exclusive

    def matches(self, state: ComplaintState) -> bool:
        c = state.classification
        if c is None or state.status not in OPEN:
            return False
        running = [k for k in state.clocks if k.stopped_at is None]
        return (
            (not self.provisional or any(k.provisional_years for k in running))
            and (self.calendar is None or any(k.calendar == self.calendar for k in running))
            and (self.department is None or c.department == self.department)
            and (self.accepted_from is None or c.accepted_at >= self.accepted_from)
            and (self.accepted_until is None or c.accepted_at < self.accepted_until)
        )
