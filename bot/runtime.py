"""Process tuning for the long-running service (``imabot run``; measured in ``bench/realtime.py``).

After start-up every object alive (modules, catalogs, settings, the SDKs) lives as long as the
process: ``gc.freeze`` moves them out of the collector's sight, so a full collection no longer walks
them (it was the worst pause in the ack-latency tail). The generation-0 threshold is raised because a
poll allocates a few hundred short-lived objects: collecting every 700 allocations meant hundreds of
young collections per second at 10,000 jobs in flight; reference counting frees almost all of them
anyway. Figures before/after: docs/performance.md.

``GcPacer`` then collects the young generations on a timer. The allocation count that triggers a
young collection is a net one (frees of older objects count against it), so with thousands of jobs
sleeping between polls it rose slowly while the young generation filled with every job's fresh
timer, future and coroutine: a young collection scanned ~56,000 objects (30-60 ms) and every 20th,
the middle generation as well (~220 ms, at 10,000 in flight). Collected every 50 ms the young
generation holds what the last 50 ms left alive; the middle one, every second, what the last second
did.

``warm_up`` does, once the platforms are connected, what the first message would otherwise pay for:
compiling the parser's cue patterns.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

# The allocation counts stay as a backstop for a stalled loop. A full collection (~340 ms at 10,000 in
# flight) comes after 1,000 middle ones: with the pacer's one a second, at most every ~17 minutes.
GC_THRESHOLDS = (20_000, 20, 1_000)
GC_YOUNG_EVERY_S = 0.05
GC_MIDDLE_EVERY = 20  # young collections


def settle_heap(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


class GcPacer:
    """Collects generation 0 every ``young_every_s`` and generation 1 (with 0) every ``middle_every``
    of those, from the event loop, while started."""

    def __init__(self, *, young_every_s: float = GC_YOUNG_EVERY_S, middle_every: int = GC_MIDDLE_EVERY,
                 call_later: Callable[[float, Callable[[], None]], asyncio.TimerHandle] | None = None,
                 collect: Callable[[int], int] = gc.collect) -> None:
        self._every_s, self._middle_every = young_every_s, middle_every
        self._call_later, self._collect = call_later, collect
        self._ticks = 0
        self._next: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._call_later is None:
            self._call_later = asyncio.get_running_loop().call_later
        self._schedule()

    async def aclose(self) -> None:
        if self._next is not None:
            self._next.cancel()
            self._next = None

    def _schedule(self) -> None:
        assert self._call_later is not None
        self._next = self._call_later(self._every_s, self._tick)

    def _tick(self) -> None:
        self._ticks += 1
        self._collect(1 if self._ticks % self._middle_every == 0 else 0)
        self._schedule()


def warm_up() -> None:
    from core.intent.cues import default_cues

    default_cues()
