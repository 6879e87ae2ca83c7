"""State the classifier keeps per key (a customer's history, a fingerprint's window) for the
partitions it owns, backed by a compacted changelog topic.

Each changed key is written once per batch, into the changelog partition numbered like the
input partition the key arrived on, so a worker restores exactly the partitions it is given.
The format is the one faust's tables wrote (JSON key, JSON value), so the state of a worker
of the faust era is recovered as it was.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

S = TypeVar("S", bound=BaseModel)

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        *,
        partition: int | None = None,
    ) -> None: ...


class ChangelogStore(Generic[S]):
    """Values kept as models in memory; changes queued on the batch's outbox by `write`."""

    def __init__(self, *, changelog: str, model: type[S]) -> None:
        self.changelog = changelog
        self._model = model
        self._data: dict[int, dict[str, S]] = {}
        self._dirty: dict[tuple[int, str], S] = {}

    def get(self, key: str, *, partition: int) -> S | None:
        return self._data.get(partition, {}).get(key)

    def put(self, key: str, state: S, *, partition: int) -> None:
        self._data.setdefault(partition, {})[key] = state
        self._dirty[(partition, key)] = state

    def write(self, outbox: Sender) -> int:
        """Queue the batch's changes, the newest state of each key once; how many."""
        for (partition, key), state in self._dirty.items():
            outbox.send(
                self.changelog,
                json.dumps(key).encode(),
                state.model_dump_json().encode(),
                partition=partition,
            )
        written = len(self._dirty)
        self._dirty.clear()
        return written

    def restore(self, partition: int, records: Iterable[tuple[bytes | None, bytes | None]]) -> int:
        """Replace a partition's state with its changelog (oldest first); keys restored."""
        data: dict[str, S] = {}
        for raw_key, value in records:
            try:
                key = json.loads(raw_key or b"null")
                if not isinstance(key, str):
                    raise ValueError(f"key {raw_key!r} is not a JSON string")
                if value is None:
                    data.pop(key, None)  # a tombstone
                else:
                    data[key] = self._model.model_validate_json(value)
            except (ValueError, ValidationError) as exc:
                # Not ours to repair: the key's next change overwrites it.
                log.warning(
                    "changelog record skipped",
                    extra={"changelog": self.changelog, "partition": partition, "error": str(exc)},
                )
        self._data[partition] = data
        self._dirty = {k: v for k, v in self._dirty.items() if k[0] != partition}
        return len(data)

    def drop(self, partitions: Iterable[int]) -> None:
        """Partitions no longer ours: their next owner restores them from the changelog."""
        gone = set(partitions)
        for partition in gone:
            self._data.pop(partition, None)
        self._dirty = {k: v for k, v in self._dirty.items() if k[0] not in gone}

    def discard_changes(self) -> None:
        """A batch that failed: its changes are not written (the state is restored instead)."""
        self._dirty.clear()

    def partitions(self) -> set[int]:
        return set(self._data)

    def __len__(self) -> int:
        return sum(len(d) for d in self._data.values())
