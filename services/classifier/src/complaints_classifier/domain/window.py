"""A sliding event-time window per fingerprint, its longer baseline, and the cluster it opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from complaints_classifier.domain.fingerprint import cluster_id as make_cluster_id
from complaints_classifier.domain.rules import CommonRule, SurgeRule
from complaints_classifier.domain.similarity import Signature, Sparse, best_group, sparse

_BUCKET = timedelta(hours=1)


# Entries kept per key in similarity mode: the most recent ones within the window.
MAX_ENTRIES = 400


class WindowEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str
    at: AwareDatetime
    # Similarity mode (a model's signature): who complained, about what, and in which group.
    customer: str | None = None
    signature: tuple[tuple[int, int], ...] = ()
    group: str | None = None

    @cached_property
    def sparse(self) -> Sparse:
        """The signature as similarity compares it (kept in memory, not in the state)."""
        return sparse(self.signature)


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
    # The channels its complaints came through, each with when last (domain/pipeline.py's
    # with_channels): a cluster's reach.
    channels: dict[str, AwareDatetime] = Field(default_factory=dict)


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
    # When this complaint opened the cluster: the members classified before it (individual
    # then), oldest first, to be told they joined (LifecycleAction.CLUSTERED).
    joined: tuple[str, ...] = ()


def add_to_window(
    state: WindowState | None,
    *,
    fingerprint: str,
    complaint_id: str,
    at: datetime,
    rule: CommonRule,
    surge: SurgeRule | None = None,
    count: bool = True,
    signature: Signature = (),
    customer: str | None = None,
    similarity: float = 0.1,
) -> WindowOutcome:
    """Add one complaint at its event time; drop entries a window older than the newest one.

    The window ends at the newest event time seen for the fingerprint (this complaint's or a
    later one already counted), so out-of-order arrivals within the window still count.
    Entries leaving the window go to hourly counts kept for the surge baseline. With
    `count=False` (a duplicate of a complaint already counted) the complaint only reads.
    """
    before = state or WindowState()
    if signature:
        return _add_similar(
            before,
            fingerprint=fingerprint,
            complaint_id=complaint_id,
            at=at,
            rule=rule,
            surge=surge,
            count=count,
            signature=signature,
            customer=customer,
            similarity=similarity,
        )
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
    joined = tuple(e.complaint_id for e in kept if e.complaint_id != complaint_id) if opened else ()
    after = WindowState(
        entries=kept,
        cluster_id=cluster,
        cluster_size=size,
        history=history,
        channels=before.channels,
    )
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
        joined=joined,
    )


def _add_similar(
    before: WindowState,
    *,
    fingerprint: str,
    complaint_id: str,
    at: datetime,
    rule: CommonRule,
    surge: SurgeRule | None,
    count: bool,
    signature: Signature,
    customer: str | None,
    similarity: float,
) -> WindowOutcome:
    """Similarity mode: the complaint joins the group of complaints about the same problem;
    a group with `threshold` distinct customers is a cluster (its id from the group's first)."""
    newest = max([at, *(e.at for e in before.entries)])
    start = newest - rule.window
    kept = tuple(e for e in before.entries if e.at > start)
    expired = [e for e in before.entries if e.at <= start]
    history = _history(before.history, expired, newest=newest, surge=surge)
    mine = next((e for e in kept if e.complaint_id == complaint_id), None)
    late = mine is None and at <= start
    if mine is not None:
        group = mine.group or complaint_id
    else:
        found, _ = best_group(
            signature,
            ((e.group or e.complaint_id, e.sparse) for e in kept if e.signature),
            threshold=similarity,
        )
        group = found or complaint_id
    members_before = [e for e in kept if (e.group or e.complaint_id) == group]
    if count and mine is None and not late:
        entry = WindowEntry(
            complaint_id=complaint_id, at=at, customer=customer, signature=signature, group=group
        )
        kept = tuple(sorted((*kept, entry), key=_order))[-MAX_ENTRIES:]
    members = [e for e in kept if (e.group or e.complaint_id) == group]
    customers_before = len({e.customer or e.complaint_id for e in members_before})
    customers = len({e.customer or e.complaint_id for e in members})
    clustered = customers >= rule.threshold and not late
    opened = clustered and customers_before < rule.threshold
    after = WindowState(entries=kept, history=history, channels=before.channels)
    return WindowOutcome(
        state=after,
        count=len(members),
        duplicate=mine is not None,
        late=late,
        cluster_id=make_cluster_id(fingerprint=fingerprint, opened_by=group) if clustered else None,
        cluster_size=len(members) if clustered else None,
        opened=opened,
        changed=after != before,
        surge=_surge(len(kept), history, rule=rule, surge=surge) if surge else None,
        not_counted=not count,
        joined=tuple(e.complaint_id for e in members_before) if opened else (),
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
