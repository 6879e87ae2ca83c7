"""A customer's recent complaints: repeats raise severity, another channel's copy is a duplicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from complaints_classifier.domain.content import ContentDecision, apply_raises
from complaints_classifier.domain.rules import RuleSet, human_duration
from complaints_schemas.events import Reason


class CustomerEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str
    fingerprint: str
    channel: str
    at: AwareDatetime
    duplicate_of: str | None = None


class CustomerState(BaseModel):
    """What a customer's table entry holds: complaints within the longest history window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: tuple[CustomerEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryOutcome:
    state: CustomerState
    previous: tuple[CustomerEntry, ...]  # earlier complaints within the repeat window
    duplicate_of: str | None  # the first complaint of this one's kind via another channel
    changed: bool


def add_to_history(
    state: CustomerState | None,
    *,
    content: ContentDecision,
    rules: RuleSet,
) -> HistoryOutcome:
    """Record the complaint; earlier ones (by event time, then id) decide repeat and duplicate.

    A redelivered complaint is found in the state and gets the same answer as the first time,
    also when it was accepted again later (a resend that another intake process published): it
    is judged at its first acceptance, and never counts as a repeat of itself.
    """
    complaint = content.complaint
    before = state or CustomerState()
    at, cid = complaint.accepted_at, complaint.complaint_id
    mine = next((e for e in before.entries if e.complaint_id == cid), None)
    if mine is not None:
        at = mine.at
    earlier = [
        e for e in before.entries if e.complaint_id != cid and (e.at, e.complaint_id) < (at, cid)
    ]
    repeat_within = rules.severity.repeat.within
    previous = tuple(
        e
        for e in earlier
        if repeat_within is not None and at - e.at <= repeat_within and e.duplicate_of is None
    )
    if mine is not None:
        duplicate_of = mine.duplicate_of
    else:
        duplicate_of = _duplicate_of(
            earlier, content=content, within=rules.correlation.duplicate_within
        )
    entries = before.entries
    if mine is None:
        entry = CustomerEntry(
            complaint_id=cid,
            fingerprint=content.fingerprint,
            channel=complaint.channel.value,
            at=at,
            duplicate_of=duplicate_of,
        )
        entries = tuple(sorted((*entries, entry), key=_order))
    newest = max(e.at for e in entries)
    kept = tuple(e for e in entries if newest - e.at <= rules.history_span())
    after = CustomerState(entries=kept)
    return HistoryOutcome(
        state=after,
        previous=previous,
        duplicate_of=duplicate_of,
        changed=after != before,
    )


def _duplicate_of(
    earlier: list[CustomerEntry], *, content: ContentDecision, within: timedelta | None
) -> str | None:
    if within is None:
        return None
    complaint = content.complaint
    for entry in earlier:  # oldest first
        if (
            entry.fingerprint == content.fingerprint
            and entry.channel != complaint.channel.value
            and complaint.accepted_at - entry.at <= within
        ):
            return entry.duplicate_of or entry.complaint_id
    return None


def apply_history(
    content: ContentDecision, history: HistoryOutcome, *, rules: RuleSet
) -> ContentDecision:
    """The repeat raise and the duplicate link, with their reasons."""
    reasons: list[Reason] = []
    severity, levels = content.severity, content.raised_levels
    within = rules.severity.repeat.within
    if history.duplicate_of is not None:
        span = human_duration(rules.correlation.duplicate_within or timedelta(0))
        reasons.append(
            Reason(
                decision="scope",
                rule="correlation.duplicate",
                detail=f"same customer, same fingerprint, another channel within {span}: "
                f"duplicate of {history.duplicate_of}; not counted again towards common",
            )
        )
    elif history.previous and within is not None:
        last = history.previous[-1]
        raised = apply_raises(
            severity,
            why=[
                (
                    "severity.repeat",
                    f"customer complained {len(history.previous)} time(s) before within "
                    f"{human_duration(within)} (last {last.complaint_id})",
                )
            ],
            already=levels,
            max_levels=rules.severity.raise_for.max_levels,
        )
        severity, levels = raised.severity, raised.levels
        reasons.extend(raised.reasons)
    if not reasons:
        return content
    return content.model_copy(
        update={
            "severity": severity,
            "raised_levels": levels,
            "duplicate_of": history.duplicate_of,
            "reasons": (*content.reasons, *reasons),
        }
    )


def _order(entry: CustomerEntry) -> tuple[datetime, str]:
    return entry.at, entry.complaint_id
