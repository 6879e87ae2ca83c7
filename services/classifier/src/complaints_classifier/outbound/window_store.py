"""Where each fingerprint's window lives: keyed by fingerprint, per input partition."""

from __future__ import annotations

from typing import Any, Protocol

from complaints_classifier.domain.window import WindowState


class WindowStore(Protocol):
    def get(self, fingerprint: str, *, partition: int) -> WindowState | None: ...

    def put(self, fingerprint: str, state: WindowState, *, partition: int) -> None: ...


class MemoryWindowStore:
    """A dict, for tests and tools; the same JSON round trip as the changelog."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def get(self, fingerprint: str, *, partition: int = 0) -> WindowState | None:
        raw = self.data.get(fingerprint)
        return None if raw is None else WindowState.model_validate(raw)

    def put(self, fingerprint: str, state: WindowState, *, partition: int = 0) -> None:
        self.writes += 1
        self.data[fingerprint] = state.model_dump(mode="json")
