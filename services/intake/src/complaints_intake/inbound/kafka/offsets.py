"""What to commit and where to rewind after a batch: never past an unfinished record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    partition: int
    offset: int
    ok: bool


@dataclass(frozen=True, slots=True)
class BatchPlan:
    commit: dict[int, int]  # partition -> next offset to read (last done + 1)
    rewind: dict[int, int]  # partition -> offset of the first record that failed


def plan(outcomes: Sequence[Outcome]) -> BatchPlan:
    """Per partition, commit the done prefix and rewind to the first failure."""
    commit: dict[int, int] = {}
    rewind: dict[int, int] = {}
    for outcome in sorted(outcomes, key=lambda o: (o.partition, o.offset)):
        if outcome.partition in rewind:
            continue
        if outcome.ok:
            commit[outcome.partition] = outcome.offset + 1
        else:
            rewind[outcome.partition] = outcome.offset
    return BatchPlan(commit=commit, rewind=rewind)
