"""How long a closed complaint's state is kept: pure rules, `now` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from complaints_escalation.domain.state import ComplaintState, Status
from complaints_schemas.events import LifecycleAction


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """`after`: how long after its closing a complaint's state is kept; None keeps it forever."""

    after: timedelta | None = None

    @property
    def enabled(self) -> bool:
        return self.after is not None


def closed_at(state: ComplaintState) -> datetime | None:
    """When a closed complaint was closed (its last `closed` step); None while not closed."""
    if state.status is not Status.CLOSED:
        return None
    closings = [f.occurred_at for f in state.history if f.action is LifecycleAction.CLOSED]
    if closings:
        return max(closings)
    # The history keeps the latest steps only: a closing pushed out by later (ignored) steps
    # is older than any of them.
    return max((f.occurred_at for f in state.history), default=None)


def expired(state: ComplaintState, *, now: datetime, policy: RetentionPolicy) -> bool:
    """Closed for longer than the policy keeps closed complaints."""
    if policy.after is None:
        return False
    at = closed_at(state)
    return at is not None and at + policy.after <= now
