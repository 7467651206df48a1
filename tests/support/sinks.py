"""An ``EventSink`` that records every UX event and hands out message refs like a chat platform."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable

from core.platform import Slot, Step, UxEvent


class RecordingSink:
    """Records events in order. A STATUS event without a ``message_ref`` "posts" a new message (a new
    ref); with a ref it "edits" that message (same ref). RESULT / NOTICE events always post.

    ``fail_on`` makes ``emit`` raise for the listed steps (to test delivery failures)."""

    def __init__(self, prefix: str = "msg", fail_on: Iterable[Step] = ()) -> None:
        self.events: list[UxEvent] = []
        self.edits: list[tuple[str, UxEvent]] = []
        self._ids = itertools.count(1)
        self._prefix = prefix
        self._fail_on = frozenset(fail_on)
        self._waiters: list[tuple[Step, asyncio.Event]] = []

    async def emit(self, event: UxEvent) -> str | None:
        if event.step in self._fail_on:
            raise RuntimeError(f"sink refuses {event.step.name}")
        self.events.append(event)
        for step, waiter in self._waiters:
            if step is event.step:
                waiter.set()
        if event.slot is Slot.STATUS and event.message_ref:
            self.edits.append((event.message_ref, event))
            return event.message_ref
        return f"{self._prefix}-{next(self._ids)}"

    async def wait_for_step(self, step: Step) -> UxEvent:
        """The first recorded event of ``step``, waiting for it if needed (no polling)."""
        if not self.of_step(step):
            waiter = asyncio.Event()
            self._waiters.append((step, waiter))
            await waiter.wait()
        return self.of_step(step)[0]

    # ---- queries used by assertions
    def for_job(self, job_id: str) -> list[UxEvent]:
        return [e for e in self.events if e.job_id == job_id]

    def steps(self, job_id: str | None = None) -> list[Step]:
        events = self.events if job_id is None else self.for_job(job_id)
        return [e.step for e in events]

    def of_step(self, step: Step, job_id: str | None = None) -> list[UxEvent]:
        events = self.events if job_id is None else self.for_job(job_id)
        return [e for e in events if e.step is step]

    def texts(self, job_id: str | None = None) -> list[str]:
        events = self.events if job_id is None else self.for_job(job_id)
        return [e.text for e in events]

    def all_text(self) -> str:
        return "\n".join(e.text for e in self.events)
