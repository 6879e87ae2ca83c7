"""Time as a dependency: the system clock in services, a fake one in tests."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

CLOCK_START_ENV = "COMPLAINTS_CLOCK_START"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return at `when` (at once if it has passed)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ShiftedClock(SystemClock):
    """Real time that runs from another instant: for demos and date-bound end-to-end tests
    (every service of a pipeline given the same start agrees on the time within the
    seconds between their starts)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


async def sleep_until_or_woken(clock: Clock, wake: asyncio.Event, until: datetime | None) -> None:
    """Until the instant (never, if None) or until `wake` is set, whichever comes first."""
    waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(wake.wait())]
    if until is not None:
        waiters.append(asyncio.ensure_future(clock.sleep_until(until)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def service_clock(environ: Mapping[str, str] = os.environ) -> Clock:
    """The system clock, or one shifted to COMPLAINTS_CLOCK_START (ISO 8601, with a zone)."""
    start = environ.get(CLOCK_START_ENV)
    if not start:
        return SystemClock()
    try:
        when = datetime.fromisoformat(start)
    except ValueError as exc:
        raise ValueError(f"{CLOCK_START_ENV}={start!r}: not an ISO 8601 instant") from exc
    if when.tzinfo is None:
        raise ValueError(f"{CLOCK_START_ENV}={start!r}: give the zone, e.g. +08:00")
    return ShiftedClock(when)


class FakeClock:
    """A clock that moves only when told; sleepers wake as `advance` passes their instant."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
