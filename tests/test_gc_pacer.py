"""The service's collector is paced by time (bot/runtime.py): young collections every 50 ms, the
middle generation every 20th, for as long as it runs, and nothing once closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.runtime import GcPacer


class FakeTimers:
    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None], asyncio.TimerHandle]] = []

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        handle = asyncio.TimerHandle(0.0, callback, (), asyncio.get_running_loop())
        self.pending.append((delay, callback, handle))
        return handle

    def fire(self) -> float:
        delay, callback, handle = self.pending.pop(0)
        assert not handle.cancelled()
        callback()
        return delay


async def test_young_collections_every_50_ms_and_the_middle_generation_every_second() -> None:
    timers, collected = FakeTimers(), list[int]()

    def collect(generation: int) -> int:
        collected.append(generation)
        return 0

    pacer = GcPacer(call_later=timers.call_later, collect=collect)
    pacer.start()
    delays = [timers.fire() for _ in range(40)]
    assert set(delays) == {0.05}
    assert collected == ([0] * 19 + [1]) * 2  # 2 s: 38 young collections, 2 of the middle generation
    await pacer.aclose()
    assert len(timers.pending) == 1 and timers.pending[0][2].cancelled()  # nothing runs after close
