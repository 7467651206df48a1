"""Coalescing, rate-limited edits of one message per key.

Each key (a status message) has at most one edit every ``interval_s`` (``old_interval_s`` once the
message is older than ``old_after_s``: Discord caps edits of messages older than an hour). A submit
never waits for the interval: it stores the newest render and a worker task applies the latest one when
the interval allows, so intermediate states are dropped and the final state is always delivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.clock import Clock

R = TypeVar("R")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EditPolicy:
    interval_s: float = 3.0
    old_after_s: float = 3600.0
    old_interval_s: float = 60.0


@dataclass
class _Slot(Generic[R]):
    created_at: float
    latest: R | None = None
    applied: R | None = None
    dirty: bool = False
    last_edit: float | None = None
    worker: asyncio.Task[None] | None = None
    retired: bool = False


class ThrottledEditor(Generic[R]):
    def __init__(self, clock: Clock, policy: EditPolicy, apply: Callable[[str, R], Awaitable[None]]) -> None:
        self._clock = clock
        self._policy = policy
        self._apply = apply
        self._slots: dict[str, _Slot[R]] = {}

    def mark_edited(self, key: str, render: R, created_at: float) -> None:
        """Record an edit made outside the editor (e.g. the message was just posted with ``render``)."""
        slot = self._slots.setdefault(key, _Slot(created_at))
        slot.applied = render
        slot.last_edit = self._clock.now()

    def submit(self, key: str, render: R, created_at: float) -> None:
        slot = self._slots.setdefault(key, _Slot(created_at))
        slot.latest = render
        slot.dirty = render != slot.applied
        if slot.dirty and (slot.worker is None or slot.worker.done()):
            slot.worker = asyncio.get_running_loop().create_task(self._run(key, slot))

    async def flush(self, key: str) -> None:
        """Wait until the latest submitted render of ``key`` has been applied (or failed)."""
        slot = self._slots.get(key)
        if slot is not None and slot.worker is not None and not slot.worker.done():
            await asyncio.shield(slot.worker)

    def retire(self, key: str) -> None:
        """No more renders will come for ``key``: drop its state once the pending edit is applied."""
        slot = self._slots.get(key)
        if slot is None:
            return
        slot.retired = True
        if slot.worker is None or slot.worker.done():
            del self._slots[key]

    async def aclose(self) -> None:
        workers = [s.worker for s in self._slots.values() if s.worker is not None and not s.worker.done()]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._slots.clear()

    def _interval(self, slot: _Slot[R]) -> float:
        age = self._clock.now() - slot.created_at
        return self._policy.old_interval_s if age >= self._policy.old_after_s else self._policy.interval_s

    async def _run(self, key: str, slot: _Slot[R]) -> None:
        while slot.dirty:
            if slot.last_edit is not None:
                wait = slot.last_edit + self._interval(slot) - self._clock.now()
                if wait > 0:
                    await self._clock.sleep(wait)
            render = slot.latest
            slot.dirty = False
            if render is None or render == slot.applied:
                continue
            slot.last_edit = self._clock.now()
            try:
                await self._apply(key, render)
                slot.applied = render
            except asyncio.CancelledError:
                raise
            except Exception:  # an edit that fails must not kill later edits; the error is logged
                _log.warning("status edit failed for %s", key, exc_info=True)
        if slot.retired and self._slots.get(key) is slot:
            del self._slots[key]
