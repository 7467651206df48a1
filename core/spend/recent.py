"""Spend settings read through a short memory: one message reads the same values up to five times (a
chat's pause at intake, the user's budget override twice, their "don't ask me" choice), and at 200
messages/s each read is a round trip to the store."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from core.clock import Clock
from core.spend.ports import SpendSettingsStore


class RecentSettings:
    """A ``SpendSettingsStore`` that remembers each subject's values for ``fresh_s`` seconds. Its own
    writes are seen at once; another replica's or ``imabot admin``'s (a pause, a budget) within
    ``fresh_s``. At most ``keep`` subjects are remembered (the oldest go first)."""

    def __init__(self, inner: SpendSettingsStore, clock: Clock, *, fresh_s: float = 1.0,
                 keep: int = 10_000) -> None:
        self._inner, self._clock = inner, clock
        self._fresh_s, self._keep = fresh_s, keep
        self._memory: dict[tuple[str, str], tuple[float, Mapping[str, str]]] = {}
        self._writes = 0

    async def values(self, scope: str, subject: str) -> Mapping[str, str]:
        key, now = (scope, subject), self._clock.now()
        remembered = self._memory.get(key)
        if remembered is not None and now < remembered[0]:
            return remembered[1]
        writes = self._writes
        values = MappingProxyType(dict(await self._inner.values(scope, subject)))
        if writes == self._writes:  # else a write may have landed after this read: do not keep it
            self._memory.pop(key, None)
            self._memory[key] = (now + self._fresh_s, values)
            if len(self._memory) > self._keep:
                del self._memory[next(iter(self._memory))]
        return values

    async def put(self, scope: str, subject: str, name: str, value: str | None) -> None:
        try:
            await self._inner.put(scope, subject, name, value)
        finally:
            self._forget(scope, subject)

    async def put_once(self, scope: str, subject: str, name: str, value: str) -> bool:
        try:
            return await self._inner.put_once(scope, subject, name, value)
        finally:
            self._forget(scope, subject)

    def _forget(self, scope: str, subject: str) -> None:
        self._writes += 1
        self._memory.pop((scope, subject), None)
