"""Injectable time. Production uses ``SystemClock``; tests use ``FakeClock`` so a 40-minute job runs
in milliseconds without sleeping on wall time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (may be virtual)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Virtual time.

    ``sleep`` parks the caller until virtual time reaches its deadline. Time moves only through
    ``advance`` / ``advance_to`` or, with ``auto=True``, by jumping straight to the earliest
    deadline once every other task has had a chance to run (the loop looks idle after
    ``idle_yields`` bare yields). Auto mode lets whole flows run with no test-side bookkeeping.
    """

    def __init__(self, start: float = 1_767_225_600.0, *, auto: bool = True, idle_yields: int = 30) -> None:
        self._now = start
        self._auto = auto
        self._idle_yields = idle_yields
        self._seq = itertools.count()
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    @property
    def auto(self) -> bool:
        return self._auto

    @auto.setter
    def auto(self, on: bool) -> None:
        """Hold time still (``False``, e.g. while a benchmark takes in N jobs) or let it run on (``True``)."""
        self._auto = on
        if on and self._waiters and (self._driver is None or self._driver.done()):
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._seq), fut))
        if self._auto and (self._driver is None or self._driver.done()):
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        await fut

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)

    def advance_to(self, when: float) -> None:
        while self._waiters and self._waiters[0][0] <= when:
            deadline, _, fut = heapq.heappop(self._waiters)
            self._now = max(self._now, deadline)
            if not fut.done():
                fut.set_result(None)
        self._now = max(self._now, when)

    @property
    def pending(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    async def _drive(self) -> None:
        while self._waiters and self._auto:
            for _ in range(self._idle_yields):
                await asyncio.sleep(0)
            # Drop waiters whose sleepers were cancelled.
            while self._waiters and self._waiters[0][2].done():
                heapq.heappop(self._waiters)
            if not self._waiters or not self._auto:
                return
            self.advance_to(self._waiters[0][0])
