"""The throttled, coalescing editor of status messages (one per job), shared by every chat platform.

Each key (a status message) gets at most one edit every ``interval_s`` (``old_interval_s`` once the
message is older than ``old_after_s``: Discord caps edits of messages older than an hour), counted from
the end of the previous edit so consecutive edits reach the platform at least that far apart whatever
their latency. A submit never waits for the interval: it stores the newest render and one worker task
per key applies the latest one when the interval allows, so intermediate states are dropped, two edits
of one message never overlap, and the final state is always delivered.
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


def ignore_wait(seconds: float) -> None:
    """The default rate-limit wait observer: nobody is counting."""


@dataclass(frozen=True, slots=True)
class EditPolicy:
    interval_s: float = 3.0
    old_after_s: float = 3600.0
    old_interval_s: float = 60.0


@dataclass
class _Message(Generic[R]):
    created_at: float
    latest: R | None = None
    applied: R | None = None
    dirty: bool = False
    last_edit: float | None = None
    worker: asyncio.Task[None] | None = None
    retired: bool = False


class StatusEditor(Generic[R]):
    """``apply(key, render)`` performs one platform edit; its failures are logged, never raised (a stale
    status message is cosmetic and must not fail the job). ``waited(seconds)`` hears of every wait for
    the platform's edit limit (telemetry's rate-limit waits)."""

    def __init__(self, clock: Clock, policy: EditPolicy, apply: Callable[[str, R], Awaitable[None]], *,
                 waited: Callable[[float], None] = ignore_wait) -> None:
        self._clock = clock
        self._policy = policy
        self._apply = apply
        self._waited = waited
        self._messages: dict[str, _Message[R]] = {}

    def mark_edited(self, key: str, render: R, created_at: float) -> None:
        """Record an edit made outside the editor (e.g. the message was just posted with ``render``)."""
        message = self._messages.setdefault(key, _Message(created_at))
        message.applied = render
        message.last_edit = self._clock.now()

    def submit(self, key: str, render: R, created_at: float) -> None:
        message = self._messages.setdefault(key, _Message(created_at))
        message.latest = render
        message.dirty = render != message.applied
        if message.dirty and (message.worker is None or message.worker.done()):
            message.worker = asyncio.get_running_loop().create_task(self._run(key, message))

    def is_due(self, key: str) -> bool:
        """Would an edit of ``key`` submitted now be applied at once (no interval to wait)?"""
        message = self._messages.get(key)
        if message is None or message.last_edit is None:
            return True
        return message.last_edit + self._interval(message) <= self._clock.now()

    async def flush(self, key: str) -> None:
        """Wait until the latest submitted render of ``key`` has been applied (or failed)."""
        message = self._messages.get(key)
        if message is not None and message.worker is not None and not message.worker.done():
            await asyncio.shield(message.worker)

    def retire(self, key: str) -> None:
        """No more renders will come for ``key``: drop its state once the pending edit is applied."""
        message = self._messages.get(key)
        if message is None:
            return
        message.retired = True
        if message.worker is None or message.worker.done():
            del self._messages[key]

    async def aclose(self, *, drain: bool = True) -> None:
        """Apply every pending edit first (each is at most one interval away), or drop them."""
        workers = [m.worker for m in self._messages.values() if m.worker is not None and not m.worker.done()]
        if not drain:
            for worker in workers:
                worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._messages.clear()

    def _interval(self, message: _Message[R]) -> float:
        age = self._clock.now() - message.created_at
        return self._policy.old_interval_s if age >= self._policy.old_after_s else self._policy.interval_s

    async def _run(self, key: str, message: _Message[R]) -> None:
        while message.dirty:
            if message.last_edit is not None:
                wait = message.last_edit + self._interval(message) - self._clock.now()
                if wait > 0:
                    self._waited(wait)
                    await self._clock.sleep(wait)
            render = message.latest
            message.dirty = False
            if render is None or render == message.applied:
                continue
            try:
                await self._apply(key, render)
                message.applied = render
            except asyncio.CancelledError:
                raise
            except Exception:  # an edit that fails must not kill later edits; the error is logged
                _log.warning("status edit failed for %s", key, exc_info=True)
            message.last_edit = self._clock.now()
        if message.retired and self._messages.get(key) is message:
            del self._messages[key]
