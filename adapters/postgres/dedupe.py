"""Durable "have we handled this delivery already?" keys in PostgreSQL (``core.ports.DedupeStore``).

Shared by every replica: a platform event delivered to two of them is claimed by exactly one.
"""

from __future__ import annotations

from adapters.postgres.db import PostgresDatabase
from core.clock import Clock, SystemClock

# As the SQLite store: one upsert that wins for a new key or one whose lifetime has ended.
_CLAIM = (
    "INSERT INTO dedupe_keys (key, expires_at) VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe_keys.expires_at <= %s"
)
_PURGE = "DELETE FROM dedupe_keys WHERE expires_at <= %s"


class PostgresDedupeStore:
    def __init__(self, db: PostgresDatabase, clock: Clock | None = None, *, purge_every: int = 500) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._purge_every = purge_every
        self._claims = 0

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        now = self._clock.now()
        async with self._db.connection() as conn:
            cur = await conn.execute(_CLAIM, (key, now + ttl_s, now))
            claimed = cur.rowcount == 1
            self._claims += 1
            if self._claims % self._purge_every == 0:
                await conn.execute(_PURGE, (now,))
        return claimed

    async def purge_expired(self) -> int:
        async with self._db.connection() as conn:
            cur = await conn.execute(_PURGE, (self._clock.now(),))
            return cur.rowcount
