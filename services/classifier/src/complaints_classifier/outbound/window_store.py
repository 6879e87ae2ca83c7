"""Where each fingerprint's window lives: a faust table backed by its changelog topic."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from complaints_classifier.domain.window import WindowState


class WindowStore(Protocol):
    def get(self, fingerprint: str) -> WindowState | None: ...

    def put(self, fingerprint: str, state: WindowState) -> None: ...


class TableWindowStore:
    """JSON values in a faust Table; must be used from the agent that owns the partition."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    def get(self, fingerprint: str) -> WindowState | None:
        raw = self._table.get(fingerprint)
        return None if raw is None else WindowState.model_validate(raw)

    def put(self, fingerprint: str, state: WindowState) -> None:
        self._table[fingerprint] = state.model_dump(mode="json")


class MemoryWindowStore:
    """A dict, for tests and tools; the same JSON round trip as the table."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def get(self, fingerprint: str) -> WindowState | None:
        raw = self.data.get(fingerprint)
        return None if raw is None else WindowState.model_validate(raw)

    def put(self, fingerprint: str, state: WindowState) -> None:
        self.writes += 1
        self.data[fingerprint] = state.model_dump(mode="json")
