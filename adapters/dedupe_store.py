"""Durable "have we handled this delivery already?" keys (``core.ports.DedupeStore``), once for both
backends. On PostgreSQL every replica shares them: an event delivered to two of them is claimed by one."""

from __future__ import annotations

from adapters.storebase import MigratedDatabase
from core.clock import Clock, SystemClock

# Upsert that succeeds (rowcount 1) for a new key or for one whose previous lifetime has ended, and is a
# no-op (rowcount 0) while the key is still live. One statement, so concurrent callers cannot both win.
_CLAIM = (
    "INSERT INTO dedupe_keys (key, expires_at) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe_keys.expires_at <= ?"
)
_PURGE = "DELETE FROM dedupe_keys WHERE expires_at <= ?"


class SqlDedupeStore:
    def __init__(self, db: MigratedDatabase, clock: Clock | None = None, *, purge_every: int = 500) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._purge_every = purge_every
        self._claims = 0
        self._claim, self._purge = db.render(_CLAIM), db.render(_PURGE)

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        now = self._clock.now()
        self._claims += 1
        purge = [(self._purge, (now,))] if self._claims % self._purge_every == 0 else []
        counts = await self._db.writes((self._claim, (key, now + ttl_s, now)), *purge)
        return counts[0] == 1

    async def purge_expired(self) -> int:
        (purged,) = await self._db.writes((self._purge, (self._clock.now(),)))
        return purged
