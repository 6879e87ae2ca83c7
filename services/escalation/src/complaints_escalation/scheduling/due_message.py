"""The internal "due" message: the timer asks a partition's agent to fire complaints' steps.

One message carries every complaint of a partition that fell due together (up to a cap), so
a burst of 10,000 deadlines costs a few dozen records, not 10,000 round trips. A message
with `fired` says the escalations of these entries were published and acknowledged: the
agent records the steps as fired (a table write happens only inside stream processing).
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
    fired: bool = False

    def to_bytes(self) -> bytes:
        body: dict[str, object] = {
            "due": [[m.complaint_id, m.token, m.due_at.isoformat()] for m in self.items]
        }
        if self.fired:
            body["fired"] = True
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> DueBatch:
        try:
            data = json.loads(raw or b"")
            if "due" not in data:  # one complaint, as written before batches
                rows = [[data["complaint_id"], data["token"], data["due_at"]]]
            else:
                rows = data["due"]
            fired = data.get("fired", False)
            if not isinstance(fired, bool):
                raise TypeError("fired is not a boolean")
            return cls(
                tuple(
                    DueMessage(
                        complaint_id=str(cid),
                        token=int(token),
                        due_at=datetime.fromisoformat(due_at),
                    )
                    for cid, token, due_at in rows
                ),
                fired=fired,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidDueMessage(f"not a due message: {exc}") from exc
