"""Deliveries recorded before they are acknowledged (``core.ports.InboxStore``) in SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.sqlite.db import Database, mapped_store_errors
from core.clock import Clock, SystemClock
from core.ports import InboxItem

# One statement: wins for a new key or one whose lifetime has ended, a no-op while the key is live.
_ACCEPT = (
    "INSERT INTO inbox (key, payload, expires_at, held_until, finished) VALUES (?, ?, ?, ?, 0) "
    "ON CONFLICT(key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at, "
    "held_until = excluded.held_until, finished = 0 WHERE inbox.expires_at <= ?"
)
_TAKE = (
    "UPDATE inbox SET held_until = ? WHERE key IN "
    "(SELECT key FROM inbox WHERE finished = 0 AND held_until <= ? AND expires_at > ? "
    "ORDER BY held_until LIMIT ?) RETURNING key, payload"
)
_PURGE = "DELETE FROM inbox WHERE expires_at <= ?"


class SqliteInboxStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    @mapped_store_errors
    async def accept(self, key: str, payload: str, ttl_s: float, hold_s: float) -> bool:
        now = self._clock.now()
        return await self._db.change(_ACCEPT, (key, payload, now + ttl_s, now + hold_s, now)) == 1

    @mapped_store_errors
    async def finish(self, key: str) -> None:
        await self._db.change("UPDATE inbox SET finished = 1 WHERE key = ?", (key,))

    @mapped_store_errors
    async def take_stale(self, hold_s: float, limit: int) -> Sequence[InboxItem]:
        now = self._clock.now()
        conn = self._db.conn
        # One hop to the connection's thread: no statement stays open while another store commits.
        rows = await conn.execute_fetchall(_TAKE, (now + hold_s, now, now, limit))
        await conn.execute(_PURGE, (now,))
        await conn.commit()
        return [InboxItem(str(key), str(payload)) for key, payload in rows]
