"""PostgreSQL answers to ``core.ops.history.JobHistory`` (jobs table, job_history from migration 0040),
as the SQLite queries: every replica's jobs, since they share the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.job_rows import COLUMNS, TERMINAL_SQL, job_from_row
from adapters.postgres.db import PostgresDatabase
from core.jobs import Job, JobState
from core.ops.history import JobFilter, StateChange, user_hash

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"


class PostgresJobHistory:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def find(self, query: JobFilter) -> Sequence[Job]:
        where: list[str] = ["NOT notice_only"]
        args: list[object] = []
        if query.states:
            where.append("state = ANY(%s)")
            args.append([s.value for s in query.states])
        if query.since is not None:
            where.append("created_at >= %s")
            args.append(query.since)
        if query.user:
            users = await self._users_matching(query.user)
            if not users:
                return []
            where.append(f"({' OR '.join('(platform = %s AND user_id = %s)' for _ in users)})")
            args.extend(v for pair in users for v in pair)
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY created_at DESC, job_id DESC LIMIT %s"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (*args, max(1, query.limit)))
            return [job_from_row(r) for r in await cur.fetchall()]

    async def lookup(self, job_or_task_id: str) -> Job | None:
        sql = f"{_SELECT} WHERE job_id = %s OR task_id = %s ORDER BY created_at DESC LIMIT 1"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (job_or_task_id, job_or_task_id))
            row = await cur.fetchone()
        return job_from_row(row) if row is not None else None

    async def changes(self, job_id: str) -> Sequence[StateChange]:
        sql = "SELECT state, at FROM job_history WHERE job_id = %s ORDER BY at, seq"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (job_id,))
            return [StateChange(JobState(r["state"]), float(r["at"])) for r in await cur.fetchall()]

    async def unfinished_counts(self) -> Mapping[tuple[str, str], int]:
        sql = ("SELECT state, (request::json ->> 'media_type') AS media, COUNT(*) AS n FROM jobs"
               f" WHERE state NOT IN ({TERMINAL_SQL}) AND NOT notice_only GROUP BY state, media")
        async with self._db.connection() as conn:
            cur = await conn.execute(sql)
            return {(r["state"], str(r["media"])): int(r["n"]) for r in await cur.fetchall()}

    async def _users_matching(self, user: str) -> list[tuple[str, str]]:
        """(platform, user id) pairs whose id or hash is ``user``; hashes are checked per distinct user."""
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT DISTINCT platform, user_id FROM jobs")
            pairs = [(str(r["platform"]), str(r["user_id"])) for r in await cur.fetchall()]
        return [(p, u) for p, u in pairs if user in (u, user_hash(p, u))]
