"""Deliveries recorded before they are acknowledged (``core.ports.InboxStore``) in PostgreSQL.

Shared by every replica: the replica that accepted a delivery holds it; if it dies unfinished, another
takes it over (``FOR UPDATE SKIP LOCKED``: two replicas never take the same item at once).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.postgres.db import PostgresDatabase
from core.clock import Clock, SystemClock
from core.ports import InboxItem

_ACCEPT = (
    "INSERT INTO inbox (key, payload, expires_at, held_until, finished) VALUES (%s, %s, %s, %s, FALSE) "
    "ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at, "
    "held_until = excluded.held_until, finished = FALSE WHERE inbox.expires_at <= %s"
)
_TAKE = (
    "UPDATE inbox SET held_until = %s WHERE key IN "
    "(SELECT key FROM inbox WHERE NOT finished AND held_until <= %s AND expires_at > %s "
    "ORDER BY held_until LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING key, payload"
)
_PURGE = "DELETE FROM inbox WHERE expires_at <= %s"


class PostgresInboxStore:
    def __init__(self, db: PostgresDatabase, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    async def accept(self, key: str, payload: str, ttl_s: float, hold_s: float) -> bool:
        now = self._clock.now()
        async with self._db.connection() as conn:
            cur = await conn.execute(_ACCEPT, (key, payload, now + ttl_s, now + hold_s, now))
            return cur.rowcount == 1

    async def finish(self, key: str) -> None:
        async with self._db.connection() as conn:
            await conn.execute("UPDATE inbox SET finished = TRUE WHERE key = %s", (key,))

    async def take_stale(self, hold_s: float, limit: int) -> Sequence[InboxItem]:
        now = self._clock.now()
        async with self._db.connection() as conn:
            cur = await conn.execute(_TAKE, (now + hold_s, now, now, limit))
            rows = await cur.fetchall()
            await conn.execute(_PURGE, (now,))
        return [InboxItem(str(row["key"]), str(row["payload"])) for row in rows]
