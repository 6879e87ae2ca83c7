"""A bounded memory of recently accepted complaints, to answer resends without republishing."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta


class DedupWindow:
    """Keys accepted within `ttl`, at most `max_entries` of them (the oldest are forgotten first).

    Forgetting is safe: complaint ids are deterministic, so a resend after the window only
    republishes the same complaint, which downstream consumers treat as a redelivery.
    """

    def __init__(self, *, ttl: timedelta, max_entries: int) -> None:
        if ttl <= timedelta(0) or max_entries < 1:
            raise ValueError("ttl must be positive and max_entries at least 1")
        self._ttl = ttl
        self._max = max_entries
        self._accepted: OrderedDict[str, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._accepted)

    def was_accepted(self, key: str, *, now: datetime) -> bool:
        self._expire(now)
        return key in self._accepted

    def record(self, key: str, *, now: datetime) -> None:
        """Remember `key` as accepted at `now` (a repeat keeps its first acceptance time)."""
        self._expire(now)
        if key in self._accepted:
            return
        self._accepted[key] = now
        while len(self._accepted) > self._max:
            self._accepted.popitem(last=False)

    def _expire(self, now: datetime) -> None:
        # Insertion order is acceptance order, so expired keys sit at the front.
        cutoff = now - self._ttl
        while self._accepted:
            key, at = next(iter(self._accepted.items()))
            if at > cutoff:
                break
            del self._accepted[key]
