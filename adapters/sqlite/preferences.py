"""Per-user model preferences in SQLite (``core.ports.PreferenceStore``).

One row per (platform, user id, task type). The store only persists what it is told; deciding *when* to
save or clear (only on an explicit user statement) is ``core.selection.preference_action``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.sqlite.db import Database
from core.ports import Preference
from core.types import Platform, TaskType

_UPSERT = (
    "INSERT INTO preferences (platform, user_id, task_type, model_id, model_name, credit, last_used) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(platform, user_id, task_type) DO UPDATE SET model_id = excluded.model_id, "
    "model_name = excluded.model_name, credit = excluded.credit, last_used = excluded.last_used"
)
_COLUMNS = "task_type, model_id, model_name, credit, last_used"


class SqlitePreferenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, platform: Platform, user_id: str, task_type: TaskType) -> Preference | None:
        sql = f"SELECT {_COLUMNS} FROM preferences WHERE platform = ? AND user_id = ? AND task_type = ?"
        row = await self._db.first(sql, (platform.value, user_id, task_type.value))
        return _preference(row) if row is not None else None

    async def save(self, platform: Platform, user_id: str, task_type: TaskType, pref: Preference) -> None:
        row = (
            platform.value,
            user_id,
            task_type.value,
            pref.model_id,
            pref.model_name,
            pref.credit,
            pref.last_used,
        )
        await self._db.change(_UPSERT, row)

    async def clear(self, platform: Platform, user_id: str, task_type: TaskType | None = None) -> None:
        sql = "DELETE FROM preferences WHERE platform = ? AND user_id = ?"
        args: tuple[str, ...] = (platform.value, user_id)
        if task_type is not None:
            sql += " AND task_type = ?"
            args = (*args, task_type.value)
        await self._db.change(sql, args)

    async def all_for(self, platform: Platform, user_id: str) -> Mapping[TaskType, Preference]:
        sql = f"SELECT {_COLUMNS} FROM preferences WHERE platform = ? AND user_id = ? ORDER BY task_type"
        out: dict[TaskType, Preference] = {}
        async with self._db.conn.execute(sql, (platform.value, user_id)) as cursor:
            async for row in cursor:
                try:
                    task = TaskType(row[0])
                except ValueError:
                    continue  # a task type this version does not know: leave it alone
                out[task] = _preference(row)
        return out


def _preference(row: Sequence[Any]) -> Preference:
    _, model_id, model_name, credit, last_used = tuple(row)
    return Preference(
        model_id=str(model_id),
        model_name=str(model_name),
        credit=int(credit) if credit is not None else None,
        last_used=float(last_used),
    )
