"""SQLite answers to ``core.ops.history.JobHistory`` (jobs table, job_history from migration 0040)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SELECT_JOBS, job_from_row
from core.jobs import TERMINAL_STATES, Job, JobState
from core.ops.history import JobFilter, StateChange, user_hash

_TERMINAL = ", ".join(f"'{s.value}'" for s in TERMINAL_STATES)


class SqliteJobHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, query: JobFilter) -> Sequence[Job]:
        where: list[str] = ["notice_only = 0"]
        args: list[str | float] = []
        if query.states:
            where.append(f"state IN ({', '.join('?' for _ in query.states)})")
            args.extend(s.value for s in query.states)
        if query.since is not None:
            where.append("created_at >= ?")
            args.append(query.since)
        if query.user:
            users = await self._users_matching(query.user)
            if not users:
                return []
            where.append(f"({' OR '.join('(platform = ? AND user_id = ?)' for _ in users)})")
            args.extend(v for pair in users for v in pair)
        sql = f"{SELECT_JOBS} WHERE {' AND '.join(where)} ORDER BY created_at DESC, job_id DESC LIMIT ?"
        async with self._db.conn.execute(sql, (*args, max(1, query.limit))) as cursor:
            return [job_from_row(r) for r in await cursor.fetchall()]

    async def lookup(self, job_or_task_id: str) -> Job | None:
        sql = f"{SELECT_JOBS} WHERE job_id = ? OR task_id = ? ORDER BY created_at DESC LIMIT 1"
        async with self._db.conn.execute(sql, (job_or_task_id, job_or_task_id)) as cursor:
            row = await cursor.fetchone()
        return job_from_row(row) if row is not None else None

    async def changes(self, job_id: str) -> Sequence[StateChange]:
        sql = "SELECT state, at FROM job_history WHERE job_id = ? ORDER BY at, rowid"
        async with self._db.conn.execute(sql, (job_id,)) as cursor:
            return [StateChange(JobState(r["state"]), float(r["at"])) for r in await cursor.fetchall()]

    async def unfinished_counts(self) -> Mapping[tuple[str, str], int]:
        sql = ("SELECT state, json_extract(request, '$.media_type') AS media, COUNT(*) AS n FROM jobs"
               f" WHERE state NOT IN ({_TERMINAL}) AND notice_only = 0 GROUP BY state, media")
        async with self._db.conn.execute(sql) as cursor:
            return {(r["state"], str(r["media"])): int(r["n"]) for r in await cursor.fetchall()}

    async def _users_matching(self, user: str) -> list[tuple[str, str]]:
        """(platform, user id) pairs whose id or hash is ``user``; hashes are checked per distinct user."""
        async with self._db.conn.execute("SELECT DISTINCT platform, user_id FROM jobs") as cursor:
            pairs = [(r["platform"], r["user_id"]) for r in await cursor.fetchall()]
        return [(p, u) for p, u in pairs if user in (u, user_hash(p, u))]
