"""Who may call: upstream channels, their hashed API keys, allowed steps and rate limits."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from complaints_schemas.events import OPERATOR_ACTIONS, SERVICE_ACTIONS, LifecycleAction

# Steps a channel may report unless its entry says otherwise; never an operator's action.
DEFAULT_ACTIONS = frozenset(LifecycleAction) - OPERATOR_ACTIONS - SERVICE_ACTIONS


def hash_key(key: str) -> str:
    """How a key is stored: its SHA-256 (keys are long random strings, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Channel:
    name: str
    key_hashes: tuple[str, ...]
    actions: frozenset[LifecycleAction] = DEFAULT_ACTIONS
    per_second: float = 50.0
    burst: int = 200


@dataclass
class Channels:
    """The configured channels; `identify` finds the one a presented key belongs to."""

    channels: dict[str, Channel]

    def identify(self, key: str) -> Channel | None:
        presented = hash_key(key)
        found = None
        for channel in self.channels.values():
            for stored in channel.key_hashes:
                # Compare every key in constant time: no early exit that a timer could see.
                if hmac.compare_digest(presented, stored):
                    found = channel
        return found


@dataclass
class TokenBucket:
    """`per_second` requests on average, `burst` at once; time is passed in (seconds)."""

    per_second: float
    burst: int
    _tokens: float = field(init=False)
    _at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)

    def take(self, now: float, count: int = 1) -> float:
        """0 when allowed; otherwise the seconds until `count` tokens are there (Retry-After)."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if count <= self._tokens:
            self._tokens -= count
            return 0.0
        return (count - self._tokens) / self.per_second
