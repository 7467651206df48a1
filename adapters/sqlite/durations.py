"""Finished jobs' generation times in SQLite (``core.timing.durations.DurationStore``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.sqlite.db import Database
from core.timing.durations import DurationKey

TRIM_MARGIN = 2  # rows beyond ``keep`` per key before a trim (a trim per insert would double the writes)


class SqliteDurationStore:
    def __init__(self, db: Database, keep: int = 200) -> None:
        self._db = db
        self._keep = keep

    async def record(self, key: DurationKey, seconds: float, finished_at: float) -> None:
        conn = self._db.conn
        args = (key.model_id, key.duration, key.resolution)
        await conn.execute("INSERT INTO durations (model_id, duration, resolution, seconds, finished_at) "
                           "VALUES (?, ?, ?, ?, ?)", (*args, seconds, finished_at))
        # Keep the newest ``keep`` rows of this key (index range scan, bounded by keep + margin).
        await conn.execute(
            "DELETE FROM durations WHERE model_id = ? AND duration = ? AND resolution = ? AND id <= "
            "(SELECT id FROM durations WHERE model_id = ? AND duration = ? AND resolution = ? "
            "ORDER BY id DESC LIMIT 1 OFFSET ?)", (*args, *args, self._keep * TRIM_MARGIN))
        await conn.commit()

    async def recent(self, per_key: int) -> Mapping[DurationKey, Sequence[float]]:
        sql = ("SELECT model_id, duration, resolution, seconds FROM (SELECT *, ROW_NUMBER() OVER "
               "(PARTITION BY model_id, duration, resolution ORDER BY id DESC) AS n FROM durations) "
               "WHERE n <= ? ORDER BY id")
        out: dict[DurationKey, list[float]] = {}
        async with self._db.conn.execute(sql, (per_key,)) as cursor:
            async for model_id, duration, resolution, seconds in cursor:
                out.setdefault(DurationKey(model_id, duration, resolution), []).append(float(seconds))
        return out
