"""Finished jobs' generation times in SQLite (``core.timing.durations.DurationStore``; table 0060)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.duration_rows import KEEP, DurationSql, by_key, key_values, trim_values
from adapters.sqlite.db import Database, mapped_store_errors
from core.timing.durations import DurationKey

_SQL = DurationSql.with_placeholder("?")


class SqliteDurationStore:
    def __init__(self, db: Database, keep: int = KEEP) -> None:
        self._db = db
        self._keep = keep

    @mapped_store_errors
    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        await self._db.writes((_SQL.insert, (*key_values(key), seconds, finished_at)),
                              (_SQL.trim, trim_values(key, self._keep)))

    @mapped_store_errors
    async def recent(self, per_key: int) -> Mapping[DurationKey, Sequence[float]]:
        async with self._db.conn.execute(_SQL.recent, (per_key,)) as cursor:
            rows = await cursor.fetchall()
        return by_key(rows)
