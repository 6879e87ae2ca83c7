"""A sliding event-time window per fingerprint, and the cluster it opens at the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from complaints_classifier.domain.fingerprint import cluster_id as make_cluster_id
from complaints_classifier.domain.rules import CommonRule


class WindowEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str
    at: AwareDatetime


class WindowState(BaseModel):
    """What a fingerprint's table entry holds: distinct recent complaints and the open cluster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: tuple[WindowEntry, ...] = ()
    cluster_id: str | None = None
    cluster_size: int = 0


@dataclass(frozen=True, slots=True)
class WindowOutcome:
    state: WindowState
    count: int  # distinct complaints in the window, this one included unless late
    duplicate: bool  # already in the window: a redelivery, not counted again
    late: bool  # older than the window's start: not counted, individual
    cluster_id: str | None
    cluster_size: int | None
    opened: bool  # this complaint's arrival opened the cluster
    changed: bool  # the state differs from the one given (write it back)


def add_to_window(
    state: WindowState | None,
    *,
    fingerprint: str,
    complaint_id: str,
    at: datetime,
    rule: CommonRule,
) -> WindowOutcome:
    """Add one complaint at its event time; drop entries a window older than the newest one.

    The window ends at the newest event time seen for the fingerprint (this complaint's or a
    later one already counted), so out-of-order arrivals within the window still count.
    """
    before = state or WindowState()
    newest = max([at, *(e.at for e in before.entries)])
    start = newest - rule.window
    kept = tuple(e for e in before.entries if e.at > start)
    cluster, size = (before.cluster_id, before.cluster_size) if kept else (None, 0)
    duplicate = any(e.complaint_id == complaint_id for e in kept)
    late = not duplicate and at <= start
    if not duplicate and not late:
        kept = tuple(sorted((*kept, WindowEntry(complaint_id=complaint_id, at=at)), key=_order))
        size += 1 if cluster else 0
    opened = False
    if cluster is None and len(kept) >= rule.threshold:
        cluster = make_cluster_id(fingerprint=fingerprint, opened_by=complaint_id)
        size, opened = len(kept), True
    after = WindowState(entries=kept, cluster_id=cluster, cluster_size=size)
    return WindowOutcome(
        state=after,
        count=len(kept),
        duplicate=duplicate,
        late=late,
        cluster_id=cluster,
        cluster_size=size if cluster else None,
        opened=opened,
        changed=after != before,
    )


def _order(entry: WindowEntry) -> tuple[datetime, str]:
    return entry.at, entry.complaint_id
