from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from complaints_kit.clock import FakeClock

T0 = datetime(2026, 1, 26, 9, 0, tzinfo=UTC)


async def test_sleepers_wake_in_order_as_time_advances() -> None:
    clock = FakeClock(T0)
    woke: list[str] = []

    async def sleeper(name: str, seconds: int) -> None:
        await clock.sleep_until(T0 + timedelta(seconds=seconds))
        woke.append(name)

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("late", 30), ("early", 10))]
    await asyncio.sleep(0)
    clock.advance(timedelta(seconds=9))
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(timedelta(seconds=1))
    await asyncio.sleep(0)
    assert woke == ["early"]
    clock.advance(timedelta(minutes=5))
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]


async def test_past_instant_returns_at_once() -> None:
    clock = FakeClock(T0)
    await asyncio.wait_for(clock.sleep_until(T0 - timedelta(seconds=1)), timeout=1)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 1, 1))
