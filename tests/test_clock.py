from __future__ import annotations

import asyncio

from core.clock import FakeClock


async def test_fake_clock_runs_forty_minutes_of_sleeps_instantly() -> None:
    clock = FakeClock(start=0.0)
    for _ in range(300):
        await clock.sleep(8)
    assert clock.now() == 2400.0


async def test_fake_clock_wakes_concurrent_sleepers_in_deadline_order() -> None:
    clock = FakeClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    await asyncio.gather(sleeper("late", 30), sleeper("early", 5), sleeper("mid", 12))
    assert woke == [("early", 5.0), ("mid", 12.0), ("late", 30.0)]


async def test_manual_fake_clock_only_moves_when_advanced() -> None:
    clock = FakeClock(start=100.0, auto=False)
    task = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    clock.advance(9)
    await asyncio.sleep(0)
    assert not task.done()
    clock.advance(1)
    await task
    assert clock.now() == 110.0


async def test_time_held_still_during_intake_then_let_run_on() -> None:
    clock = FakeClock(start=100.0, auto=False)
    sleeper = asyncio.create_task(clock.sleep(60))
    for _ in range(100):  # the loop is idle, yet held time does not jump
        await asyncio.sleep(0)
    assert not sleeper.done() and clock.now() == 100.0
    clock.auto = True
    await sleeper
    assert clock.now() == 160.0
