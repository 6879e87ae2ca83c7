"""The internal "due" message: the timer asks a partition's agent to fire complaints' steps.

One message carries every complaint of a partition that fell due together (up to a cap), so
a burst of 10,000 deadlines costs a few dozen records, not 10,000 round trips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime


class InvalidDueMessage(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DueMessage:
    complaint_id: str
    token: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class DueBatch:
    items: tuple[DueMessage, ...]

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"due": [[m.complaint_id, m.token, m.due_at.isoformat()] for m in self.items]},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> DueBatch:
        try:
            data = json.loads(raw or b"")
            if "due" not in data:  # one complaint, as written before batches
                rows = [[data["complaint_id"], data["token"], data["due_at"]]]
            else:
                rows = data["due"]
            return cls(
                tuple(
                    DueMessage(
                        complaint_id=str(cid),
                        token=int(token),
                        due_at=datetime.fromisoformat(due_at),
                    )
                    for cid, token, due_at in rows
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidDueMessage(f"not a due message: {exc}") from exc
