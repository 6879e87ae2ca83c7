"""What every notification channel offers: one delivery attempt, reported as an outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome


class Channel(Protocol):
    name: str

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        """Attempt delivery once; never raise for the peer's or the network's failures."""
        ...

    async def aclose(self) -> None: ...
