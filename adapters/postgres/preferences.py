"""Per-user model preferences in PostgreSQL (``core.ports.PreferenceStore``), as the SQLite store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.postgres.db import PostgresDatabase
from core.ports import Preference
from core.types import Platform, TaskType

_UPSERT = (
    "INSERT INTO preferences (platform, user_id, task_type, model_id, model_name, credit, last_used) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (platform, user_id, task_type) DO UPDATE SET model_id = excluded.model_id, "
    "model_name = excluded.model_name, credit = excluded.credit, last_used = excluded.last_used"
)
_COLUMNS = "task_type, model_id, model_name, credit, last_used"


class PostgresPreferenceStore:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def get(self, platform: Platform, user_id: str, task_type: TaskType) -> Preference | None:
        sql = f"SELECT {_COLUMNS} FROM preferences WHERE platform = %s AND user_id = %s AND task_type = %s"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (platform.value, user_id, task_type.value))
            row = await cur.fetchone()
        return _preference(row) if row is not None else None

    async def save(self, platform: Platform, user_id: str, task_type: TaskType, pref: Preference) -> None:
        row = (platform.value, user_id, task_type.value, pref.model_id, pref.model_name, pref.credit,
               pref.last_used)
        async with self._db.connection() as conn:
            await conn.execute(_UPSERT, row)

    async def clear(self, platform: Platform, user_id: str, task_type: TaskType | None = None) -> None:
        sql = "DELETE FROM preferences WHERE platform = %s AND user_id = %s"
        args: tuple[str, ...] = (platform.value, user_id)
        if task_type is not None:
            sql += " AND task_type = %s"
            args = (*args, task_type.value)
        async with self._db.connection() as conn:
            await conn.execute(sql, args)

    async def all_for(self, platform: Platform, user_id: str) -> Mapping[TaskType, Preference]:
        sql = f"SELECT {_COLUMNS} FROM preferences WHERE platform = %s AND user_id = %s ORDER BY task_type"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (platform.value, user_id))
            rows = await cur.fetchall()
        out: dict[TaskType, Preference] = {}
        for row in rows:
            try:
                task = TaskType(row["task_type"])
            except ValueError:
                continue  # a task type this version does not know: leave it alone
            out[task] = _preference(row)
        return out


def _preference(row: Mapping[str, Any]) -> Preference:
    credit = row["credit"]
    return Preference(model_id=str(row["model_id"]), model_name=str(row["model_name"]),
                      credit=int(credit) if credit is not None else None, last_used=float(row["last_used"]))
