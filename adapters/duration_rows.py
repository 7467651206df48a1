"""The ``durations`` table's statements (migration 0060), shared by the SQLite and PostgreSQL stores of
``core.timing.durations.DurationStore``: one place decides what is kept, each backend only its
placeholder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.timing.durations import DurationKey

KEEP = 200  # newest rows per key a store is asked to keep
TRIM_MARGIN = 2  # rows up to ``keep * TRIM_MARGIN`` per key stay (a trim per insert would double writes)
_KEY = "model_id = {p} AND duration = {p} AND resolution = {p}"


@dataclass(frozen=True, slots=True)
class DurationSql:
    """The statements in one driver's placeholder style (``?`` for SQLite, ``%s`` for psycopg)."""

    insert: str
    trim: str  # deletes a key's rows older than its newest ``keep * TRIM_MARGIN`` (an index range scan)
    recent: str  # every key's newest rows, oldest first

    @classmethod
    def with_placeholder(cls, p: str) -> DurationSql:
        key = _KEY.format(p=p)
        return cls(
            insert=("INSERT INTO durations (model_id, duration, resolution, seconds, finished_at) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p})"),
            trim=(f"DELETE FROM durations WHERE {key} AND id <= "
                  f"(SELECT id FROM durations WHERE {key} ORDER BY id DESC LIMIT 1 OFFSET {p})"),
            recent=("SELECT model_id, duration, resolution, seconds FROM (SELECT model_id, duration, "
                    "resolution, seconds, id, ROW_NUMBER() OVER (PARTITION BY model_id, duration, "
                    "resolution ORDER BY id DESC) AS n FROM durations) AS ranked "
                    f"WHERE n <= {p} ORDER BY id"),
        )


def key_values(key: DurationKey) -> tuple[str, str, str]:
    return key.model_id, key.duration, key.resolution


def trim_values(key: DurationKey, keep: int) -> tuple[str | int, ...]:
    return (*key_values(key), *key_values(key), keep * TRIM_MARGIN)


def by_key(rows: Iterable[Sequence[Any]]) -> Mapping[DurationKey, Sequence[float]]:
    """(model_id, duration, resolution, seconds) rows, oldest first -> each key's durations."""
    out: dict[DurationKey, list[float]] = {}
    for model_id, duration, resolution, seconds in rows:
        key = DurationKey(str(model_id), str(duration), str(resolution))
        out.setdefault(key, []).append(float(seconds))
    return out
