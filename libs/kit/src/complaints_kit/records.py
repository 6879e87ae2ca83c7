"""Handling one consumed record so that it is never dropped in silence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None

    def log_fields(self) -> dict[str, str | int]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


async def handle_record(
    handle: Callable[[], Awaitable[None]],
    *,
    origin: Origin,
    failed: Callable[[Exception], Awaitable[None]],
    retryable: tuple[type[Exception], ...],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run `handle` until it succeeds; a record's offset is committed only after this returns.

    Broker trouble (`retryable`) is retried with backoff: skipping the record would lose it.
    Any other exception is a bug on this record's path: `failed` dead-letters it with the
    error (retried like the handling), so it is accounted for and the partition goes on
    instead of failing on it forever.
    """
    where = origin.log_fields()
    step, delay = handle, RETRY_FIRST_S
    while True:
        try:
            await step()
            return
        except retryable as exc:
            log.warning(
                "broker trouble while handling a record; retrying it",
                extra={**where, "error": repr(exc), "retry_in_s": delay},
            )
            await sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
        except Exception as exc:
            if step is not handle:
                raise  # the dead letter itself failed: not a record to drop
            log.exception("record handling failed; dead-lettering it", extra=where)
            step = _bind(failed, exc)


def _bind(
    failed: Callable[[Exception], Awaitable[None]], exc: Exception
) -> Callable[[], Awaitable[None]]:
    async def dead_letter() -> None:
        await failed(exc)

    return dead_letter


class OffsetGaps:
    """Notices when a partition's records reach a handler with offsets missing in between.

    Our topics are written without transactions and never compacted, so their offsets are
    contiguous: a jump means the consumer skipped records. A restarted faust worker does so:
    it acknowledges a partition's first records without delivering them, and skips records
    it fetched while recovering its tables. The caller seeks back to the first missing offset
    and reads on.
    Records deleted by retention while the consumer lagged are no loop: reading again from
    a deleted offset resets to the log start, at or before the record that showed the gap.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}
        self._at_last_check: dict[tuple[str, int], int | None] = {}
        # Records being handled now: while one takes long (a producer flush under a burst),
        # the other partitions wait on the agent, not on the consumer.
        self.handling = 0

    def expect(self, key: tuple[str, int], offset: int | None) -> None:
        """Where a partition starts (its committed offset), unless records of it were seen:
        faust acknowledges without delivering a record it fetched before a rebalance ended."""
        if offset is not None:
            self._next.setdefault(key, offset)

    def missing_from(self, origin: Origin) -> int | None:
        """The first skipped offset before this record, or None; then expects its successor."""
        key = (origin.topic, origin.partition)
        expected = self._next.get(key)
        self._next[key] = origin.offset + 1
        if expected is not None and origin.offset > expected:
            return expected
        return None

    def stalled(
        self, ends: dict[tuple[str, int], int], committed: dict[tuple[str, int], int | None]
    ) -> dict[tuple[str, int], int]:
        """Partitions with records beyond the next expected offset (or, if none was seen yet,
        the committed one) and none received since the previous call: where to read from.
        faust can leave a partition unfetched after a restart; this names it on the next call.
        While a record is being handled nothing is stalled, and the interval starts again.
        """
        if self.handling:
            self._at_last_check = {}  # the next call is a first look
            return {}
        stalled = {}
        for key, end in ends.items():
            start = self._next.get(key, committed.get(key))
            if start is not None and end > start and self._at_last_check.get(key) == start:
                stalled[key] = start
        self._at_last_check = {key: self._next.get(key, committed.get(key)) for key in ends}
        return stalled

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        """Partitions revoked: whoever gets them next starts at the committed offset."""
        for key in partitions:
            self._next.pop(key, None)
