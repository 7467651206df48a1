"""Durable "have we handled this delivery already?" keys (``core.ports.DedupeStore``)."""

from __future__ import annotations

from adapters.sqlite.db import Database
from core.clock import Clock, SystemClock

# Upsert that succeeds (rowcount 1) for a new key or for one whose previous lifetime has ended, and is a
# no-op (rowcount 0) while the key is still live. One statement, so concurrent callers cannot both win.
_CLAIM = (
    "INSERT INTO dedupe_keys (key, expires_at) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe_keys.expires_at <= ?"
)
_PURGE = "DELETE FROM dedupe_keys WHERE expires_at <= ?"


class SqliteDedupeStore:
    def __init__(self, db: Database, clock: Clock | None = None, *, purge_every: int = 500) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._purge_every = purge_every
        self._claims = 0

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        now = self._clock.now()
        conn = self._db.conn
        claimed = (await conn.execute(_CLAIM, (key, now + ttl_s, now))).rowcount == 1
        self._claims += 1
        if self._claims % self._purge_every == 0:
            await conn.execute(_PURGE, (now,))
        await conn.commit()
        return claimed

    async def purge_expired(self) -> int:
        return await self._db.change(_PURGE, (self._clock.now(),))
