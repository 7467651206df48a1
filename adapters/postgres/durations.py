"""Finished jobs' generation times in PostgreSQL (``core.timing.durations.DurationStore``; table 0060),
with the SQLite store's semantics: each key keeps its newest rows, older ones are trimmed on insert.

Replicas recording the same key at once may trim a row more or less than one alone would; the
bound on rows per key holds either way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.duration_rows import KEEP, DurationSql, by_key, key_values, trim_values
from adapters.postgres.db import PostgresDatabase
from core.timing.durations import DurationKey

_SQL = DurationSql.with_placeholder("%s")


class PostgresDurationStore:
    def __init__(self, db: PostgresDatabase, keep: int = KEEP) -> None:
        self._db = db
        self._keep = keep

    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        async with self._db.connection() as conn:  # one transaction: the insert and its trim
            await conn.execute(_SQL.insert, (*key_values(key), seconds, finished_at))
            await conn.execute(_SQL.trim, trim_values(key, self._keep))

    async def recent(self, per_key: int) -> Mapping[DurationKey, Sequence[float]]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_SQL.recent, (per_key,))
            rows = await cur.fetchall()
        return by_key((r["model_id"], r["duration"], r["resolution"], r["seconds"]) for r in rows)
