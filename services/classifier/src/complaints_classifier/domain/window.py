"""A sliding event-time window per fingerprint, its longer baseline, and the cluster it opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from complaints_classifier.domain.fingerprint import cluster_id as make_cluster_id
from complaints_classifier.domain.rules import CommonRule, SurgeRule

_BUCKET = timedelta(hours=1)


class WindowEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str
    at: AwareDatetime


class HourCount(BaseModel):
    """Complaints that left the common window, counted per hour, for the surge baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hour: int  # hours since the epoch (UTC)
    count: int


class WindowState(BaseModel):
    """What a fingerprint's table entry holds: distinct recent complaints and the open cluster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: tuple[WindowEntry, ...] = ()
    cluster_id: str | None = None
    cluster_size: int = 0
    history: tuple[HourCount, ...] = ()


@dataclass(frozen=True, slots=True)
class Surge:
    count: int  # complaints in the common window
    baseline: float  # mean count per common window over the baseline window before it
    factor: float
    min_count: int

    @property
    def surging(self) -> bool:
        return self.count >= self.min_count and self.count >= self.factor * self.baseline


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
    surge: Surge | None = None
    not_counted: bool = False  # counted elsewhere (an omni-channel duplicate)


def add_to_window(
    state: WindowState | None,
    *,
    fingerprint: str,
    complaint_id: str,
    at: datetime,
    rule: CommonRule,
    surge: SurgeRule | None = None,
    count: bool = True,
) -> WindowOutcome:
    """Add one complaint at its event time; drop entries a window older than the newest one.

    The window ends at the newest event time seen for the fingerprint (this complaint's or a
    later one already counted), so out-of-order arrivals within the window still count.
    Entries leaving the window go to hourly counts kept for the surge baseline. With
    `count=False` (a duplicate of a complaint already counted) the complaint only reads.
    """
    before = state or WindowState()
    newest = max([at, *(e.at for e in before.entries)])
    start = newest - rule.window
    kept = tuple(e for e in before.entries if e.at > start)
    expired = [e for e in before.entries if e.at <= start]
    history = _history(before.history, expired, newest=newest, surge=surge)
    cluster, size = (before.cluster_id, before.cluster_size) if kept else (None, 0)
    duplicate = any(e.complaint_id == complaint_id for e in kept)
    late = not duplicate and at <= start
    if count and not duplicate and not late:
        kept = tuple(sorted((*kept, WindowEntry(complaint_id=complaint_id, at=at)), key=_order))
        size += 1 if cluster else 0
    opened = False
    if cluster is None and len(kept) >= rule.threshold:
        cluster = make_cluster_id(fingerprint=fingerprint, opened_by=complaint_id)
        size, opened = len(kept), True
    after = WindowState(entries=kept, cluster_id=cluster, cluster_size=size, history=history)
    return WindowOutcome(
        state=after,
        count=len(kept),
        duplicate=duplicate,
        late=late,
        cluster_id=cluster,
        cluster_size=size if cluster else None,
        opened=opened,
        changed=after != before,
        surge=_surge(len(kept), history, rule=rule, surge=surge) if surge else None,
        not_counted=not count,
    )


def _history(
    history: tuple[HourCount, ...],
    expired: list[WindowEntry],
    *,
    newest: datetime,
    surge: SurgeRule | None,
) -> tuple[HourCount, ...]:
    if surge is None:
        return ()
    counts = {h.hour: h.count for h in history}
    for entry in expired:
        hour = _hour(entry.at)
        counts[hour] = counts.get(hour, 0) + 1
    oldest = _hour(newest - surge.baseline_window)
    return tuple(HourCount(hour=h, count=c) for h, c in sorted(counts.items()) if h > oldest)


def _surge(
    count: int, history: tuple[HourCount, ...], *, rule: CommonRule, surge: SurgeRule
) -> Surge:
    periods = (surge.baseline_window - rule.window) / rule.window
    baseline = sum(h.count for h in history) / periods
    return Surge(count=count, baseline=baseline, factor=surge.factor, min_count=surge.min_count)


def _hour(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) // _BUCKET)


def _order(entry: WindowEntry) -> tuple[datetime, str]:
    return entry.at, entry.complaint_id
