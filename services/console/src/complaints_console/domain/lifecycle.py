"""What a lifecycle step does to a complaint's status in the read model (pure)."""

from __future__ import annotations

from complaints_schemas.events import LifecycleAction

NEW, OPEN, ACKNOWLEDGED, PAUSED, RESOLVED, CLOSED = (
    "new",
    "open",
    "acknowledged",
    "paused",
    "resolved",
    "closed",
)
STATUSES = (NEW, OPEN, ACKNOWLEDGED, PAUSED, RESOLVED, CLOSED)
NOT_DONE = (NEW, OPEN, ACKNOWLEDGED, PAUSED)


def status_after(status: str, action: LifecycleAction, *, acknowledged: bool) -> str:
    """The status after a step; a closed complaint changes only when reopened."""
    if status == CLOSED and action is not LifecycleAction.REOPENED:
        return status
    if action in (LifecycleAction.ACKNOWLEDGED, LifecycleAction.RESPONDED):
        return ACKNOWLEDGED if status in (NEW, OPEN, ACKNOWLEDGED) else status
    if action is LifecycleAction.PAUSED:
        return PAUSED if status != RESOLVED else status
    if action is LifecycleAction.RESUMED:
        return (ACKNOWLEDGED if acknowledged else OPEN) if status == PAUSED else status
    if action is LifecycleAction.RESOLVED:
        return RESOLVED
    if action is LifecycleAction.CLOSED:
        return CLOSED
    if action is LifecycleAction.REOPENED:
        return OPEN if status in (RESOLVED, CLOSED) else status
    return status


def allowed_actions(status: str) -> tuple[LifecycleAction, ...]:
    """The console's buttons for a complaint in this status."""
    a = LifecycleAction
    if status == CLOSED:
        return (a.REOPENED,)
    if status == RESOLVED:
        return (a.CLOSED, a.REOPENED)
    base: tuple[LifecycleAction, ...] = (a.TRANSFERRED, a.RECLASSIFIED, a.RESOLVED, a.CLOSED)
    if status == PAUSED:
        return (a.RESUMED, *base)
    if status == ACKNOWLEDGED:
        return (a.PAUSED, *base)
    return (a.ACKNOWLEDGED, a.PAUSED, *base)
