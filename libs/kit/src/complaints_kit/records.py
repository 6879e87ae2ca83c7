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
    where = {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset}
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
