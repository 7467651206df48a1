"""PostgreSQL implementation of ``core.jobs.JobStore`` (tables from migrations 0002 and 0050).

Claims lock candidate rows with ``FOR UPDATE SKIP LOCKED``: replicas claiming at the same moment take
disjoint sets instead of queueing behind each other, and each job ends up with exactly one holder.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from adapters.job_rows import (
    COLUMNS,
    PARKED,
    SAVED_COLUMNS,
    TERMINAL_SQL,
    UNCANCELLABLE_SQL,
    JobEncoder,
    job_from_row,
)
from adapters.postgres.db import PostgresDatabase
from core.jobs import Job, LeaseLostError

_INSERT = (f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)}) "
           "ON CONFLICT (idempotency_key) DO NOTHING")
_UPDATE = (f"UPDATE jobs SET {', '.join(f'{c} = %s' for c in SAVED_COLUMNS)} "
           "WHERE job_id = %s AND lease_owner IS NOT DISTINCT FROM %s")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"
_LIVE = f"state NOT IN ({TERMINAL_SQL}) AND NOT notice_only"
_CLAIM = (f"WITH free AS (SELECT job_id FROM jobs WHERE {_LIVE} AND platform = ANY(%s) "
          "AND (lease_owner IS NULL OR lease_until <= %s) "
          "ORDER BY created_at, job_id LIMIT %s FOR UPDATE SKIP LOCKED) "
          "UPDATE jobs SET lease_owner = %s, lease_until = %s FROM free WHERE jobs.job_id = free.job_id "
          f"RETURNING {', '.join(f'jobs.{c}' for c in COLUMNS)}")
_RENEW = f"UPDATE jobs SET lease_until = %s WHERE lease_owner = %s AND {_LIVE} RETURNING job_id"
_RELEASE = "UPDATE jobs SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = %s"
_RELEASE_SOME = f"{_RELEASE} AND job_id = ANY(%s)"
# One statement (the row is locked while it runs): the request is recorded and the lease taken, or left
# to its live holder. Every expression in SET reads the row as it was before this update.
_FREE_OR_MINE = "(lease_owner IS NULL OR lease_owner = %s OR lease_until <= %s)"
_REQUEST_CANCEL = (
    f"UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, %s), "
    f"lease_until = CASE WHEN {_FREE_OR_MINE} THEN %s ELSE lease_until END, "
    f"lease_owner = CASE WHEN {_FREE_OR_MINE} THEN %s ELSE lease_owner END "
    f"WHERE job_id = %s AND state NOT IN ({UNCANCELLABLE_SQL}) RETURNING {', '.join(COLUMNS)}")
_CANCEL_REQUESTS = (f"SELECT job_id FROM jobs WHERE lease_owner = %s AND cancel_requested_at IS NOT NULL "
                    f"AND state NOT IN ({UNCANCELLABLE_SQL})")
# A parked job is run by nobody: whoever acts on its answer takes it from any holder (the row is locked).
_TAKE_PARKED = (f"UPDATE jobs SET lease_owner = %s, lease_until = %s WHERE job_id = %s "
                f"AND state = '{PARKED}' AND cancel_requested_at IS NULL RETURNING {', '.join(COLUMNS)}")


class PostgresJobStore:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db
        self._rows = JobEncoder()

    async def insert(self, job: Job) -> tuple[Job, bool]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_INSERT, self._rows.values(job))
            inserted = cur.rowcount == 1
        if inserted:
            return job, True
        existing = await self.by_key(job.idempotency_key)
        if existing is None:  # pragma: no cover - the UNIQUE conflict guarantees a row
            raise RuntimeError("idempotency conflict without a stored job")
        return existing, False

    async def save(self, job: Job) -> None:
        async with self._db.connection() as conn:
            cur = await conn.execute(_UPDATE, (*self._rows.saved(job), job.job_id, job.lease_owner))
            saved = cur.rowcount == 1
        if not saved:
            raise LeaseLostError(f"job {job.job_id} is no longer held by {job.lease_owner}")

    async def get(self, job_id: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE job_id = %s", job_id)

    async def by_key(self, idempotency_key: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE idempotency_key = %s", idempotency_key)

    async def unfinished(self) -> Sequence[Job]:
        async with self._db.connection() as conn:
            cur = await conn.execute(f"{_SELECT} WHERE state NOT IN ({TERMINAL_SQL}) "
                                     "ORDER BY created_at, job_id")
            rows = await cur.fetchall()
        return [job_from_row(r) for r in rows]

    async def claim(self, owner: str, now: float, until: float, limit: int,
                    platforms: Collection[str]) -> Sequence[Job]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_CLAIM, (list(platforms), now, limit, owner, until))
            rows = await cur.fetchall()
        return sorted((job_from_row(r) for r in rows), key=lambda j: (j.created_at, j.job_id))

    async def renew(self, owner: str, until: float) -> frozenset[str]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_RENEW, (until, owner))
            rows = await cur.fetchall()
        return frozenset(str(r["job_id"]) for r in rows)

    async def release(self, owner: str, job_ids: Sequence[str] | None = None) -> None:
        async with self._db.connection() as conn:
            if job_ids is None:
                await conn.execute(_RELEASE, (owner,))
            else:
                await conn.execute(_RELEASE_SOME, (owner, list(job_ids)))

    async def request_cancel(self, job_id: str, owner: str, now: float, until: float) -> Job | None:
        args = (now, owner, now, until, owner, now, owner, job_id)
        async with self._db.connection() as conn:
            cur = await conn.execute(_REQUEST_CANCEL, args)
            row = await cur.fetchone()
        return job_from_row(row) if row is not None else await self.get(job_id)

    async def cancel_requests(self, owner: str) -> frozenset[str]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_CANCEL_REQUESTS, (owner,))
            rows = await cur.fetchall()
        return frozenset(str(r["job_id"]) for r in rows)

    async def take_parked(self, job_id: str, owner: str, until: float) -> Job | None:
        async with self._db.connection() as conn:
            cur = await conn.execute(_TAKE_PARKED, (owner, until, job_id))
            row = await cur.fetchone()
        return job_from_row(row) if row is not None else None

    async def _one(self, sql: str, arg: str) -> Job | None:
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (arg,))
            row = await cur.fetchone()
        return job_from_row(row) if row is not None else None
