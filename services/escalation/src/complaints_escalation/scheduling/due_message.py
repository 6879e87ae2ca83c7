"""The internal "due" message: the timer asks the partition's agent to fire a complaint's steps."""

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

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "complaint_id": self.complaint_id,
                "token": self.token,
                "due_at": self.due_at.isoformat(),
            }
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> DueMessage:
        try:
            data = json.loads(raw or b"")
            return cls(
                complaint_id=str(data["complaint_id"]),
                token=int(data["token"]),
                due_at=datetime.fromisoformat(data["due_at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidDueMessage(f"not a due message: {exc}") from exc
