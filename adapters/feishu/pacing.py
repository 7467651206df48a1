"""Keep each chat under Feishu's send limit (5 QPS per chat, shared by every bot in a group).

Sends to one chat go one at a time, each starting at least ``min_gap_s`` after the previous one
finished, so consecutive requests reach Feishu at least that far apart whatever their latency, and
concurrent jobs in one busy group queue up instead of tripping error 230020.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from adapters.chat.status import ignore_wait
from core.clock import Clock

DEFAULT_GAP_S = 0.25  # at most 4 sends per second per chat, leaving room for other bots
_PRUNE_ABOVE = 1000


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_done: float = float("-inf")


class ChatPacer:
    def __init__(self, clock: Clock, min_gap_s: float = DEFAULT_GAP_S, *,
                 waited: Callable[[float], None] = ignore_wait) -> None:
        self._clock = clock
        self._gap = min_gap_s
        self._waited = waited
        self._lanes: dict[str, _Lane] = {}

    @asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[None]:
        lane = self._lanes.setdefault(chat_id, _Lane())
        async with lane.lock:
            wait = lane.last_done + self._gap - self._clock.now()
            if wait > 0:
                self._waited(wait)
                await self._clock.sleep(wait)
            try:
                yield
            finally:
                lane.last_done = self._clock.now()
        if len(self._lanes) > _PRUNE_ABOVE:
            self._prune()

    def _prune(self) -> None:
        horizon = self._clock.now() - self._gap
        self._lanes = {chat: lane for chat, lane in self._lanes.items()
                       if lane.lock.locked() or lane.last_done > horizon}
