"""A view of the platform sinks that lets the conversation layer see what the runner showed.

The runner emits a failure with a retry offer ("需要我帮你用其他模型重试吗？"); the conversation layer
must remember that question so that "好的" answers it. Wrapping the sinks keeps the runner unaware of
questions: each event goes to the platform first, then (once shown) to the observers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping

from core.platform import EventSink, UxEvent
from core.types import Platform

log = logging.getLogger(__name__)
Observer = Callable[[UxEvent], Awaitable[None]]


class ObservedSinks(Mapping[Platform, EventSink]):
    """A live view over ``sinks`` (adapters keep registering theirs) whose sinks report to observers."""

    def __init__(self, sinks: Mapping[Platform, EventSink]) -> None:
        self._sinks = sinks
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def __getitem__(self, platform: Platform) -> EventSink:
        return _ObservedSink(self._sinks[platform], self._observers)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._sinks)

    def __len__(self) -> int:
        return len(self._sinks)


class _ObservedSink:
    def __init__(self, inner: EventSink, observers: list[Observer]) -> None:
        self._inner = inner
        self._observers = observers

    async def emit(self, event: UxEvent) -> str | None:
        ref = await self._inner.emit(event)
        for observer in self._observers:
            try:
                await observer(event)
            except Exception as exc:  # remembering a question must never fail the job's delivery
                log.warning("observer failed on %s: %s", event.step.name, type(exc).__name__)
        return ref
