"""Where each fingerprint's window lives: a faust table backed by its changelog topic."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime
from typing import Any, Protocol

from complaints_classifier.domain.window import WindowState

# The channels a fingerprint's complaints came through sit in the same table, beside its
# window: written by the same agent, for the same partition. {channel: last seen, ISO 8601}.
_CHANNELS = "channels:"


class WindowStore(Protocol):
    def get(self, fingerprint: str) -> WindowState | None: ...

    def put(self, fingerprint: str, state: WindowState) -> None: ...

    def channels(self, fingerprint: str) -> dict[str, datetime]:
        """The channels the fingerprint's complaints came through, each with when last."""
        ...

    def put_channels(self, fingerprint: str, channels: Mapping[str, datetime]) -> None: ...


class TableWindowStore:
    """JSON values in a faust Table; must be used from the agent that owns the partition."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    def get(self, fingerprint: str) -> WindowState | None:
        raw = self._table.get(fingerprint)
        return None if raw is None else WindowState.model_validate(raw)

    def put(self, fingerprint: str, state: WindowState) -> None:
        self._table[fingerprint] = state.model_dump(mode="json")

    def channels(self, fingerprint: str) -> dict[str, datetime]:
        return _channels_from(self._table.get(_CHANNELS + fingerprint))

    def put_channels(self, fingerprint: str, channels: Mapping[str, datetime]) -> None:
        self._table[_CHANNELS + fingerprint] = _channels_json(channels)


class MemoryWindowStore:
    """A dict, for tests and tools; the same JSON round trip as the table."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0  # windows
        self.channel_writes = 0

    def get(self, fingerprint: str) -> WindowState | None:
        raw = self.data.get(fingerprint)
        return None if raw is None else WindowState.model_validate(raw)

    def put(self, fingerprint: str, state: WindowState) -> None:
        self.writes += 1
        self.data[fingerprint] = state.model_dump(mode="json")

    def channels(self, fingerprint: str) -> dict[str, datetime]:
        return _channels_from(self.data.get(_CHANNELS + fingerprint))

    def put_channels(self, fingerprint: str, channels: Mapping[str, datetime]) -> None:
        self.channel_writes += 1
        self.data[_CHANNELS + fingerprint] = _channels_json(channels)


def _channels_from(raw: Any) -> dict[str, datetime]:
    return {str(c): datetime.fromisoformat(at) for c, at in (raw or {}).items()}


def _channels_json(channels: Mapping[str, datetime]) -> dict[str, str]:
    return {c: at.isoformat() for c, at in channels.items()}
