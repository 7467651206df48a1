"""SQLite implementation of ``core.jobs.JobStore`` (tables from migrations 0002 and 0050)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Sequence
from typing import Any

from adapters.job_rows import (
    COLUMNS,
    PARKED,
    SAVED_COLUMNS,
    TERMINAL_SQL,
    UNCANCELLABLE_SQL,
    JobEncoder,
)
from adapters.job_rows import job_from_row as job_from_row
from adapters.sqlite.db import Database, mapped_store_errors
from core.jobs import Job, LeaseLostError

_INSERT = (f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
           "ON CONFLICT(idempotency_key) DO NOTHING")
# Fenced: only the lease holder's write lands (``IS`` also matches two NULLs: a job nobody leased).
_UPDATE = (f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in SAVED_COLUMNS)} "
           "WHERE job_id = ? AND lease_owner IS ?")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"
_LIVE = f"state NOT IN ({TERMINAL_SQL}) AND notice_only = 0"
# One statement, so it is atomic (SQLite has one writer at a time).
_CLAIM = (f"UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE job_id IN ("
          f"SELECT job_id FROM jobs WHERE {_LIVE} AND platform IN (SELECT value FROM json_each(?)) "
          "AND (lease_owner IS NULL OR lease_until <= ?) "
          f"ORDER BY created_at, job_id LIMIT ?) RETURNING {', '.join(COLUMNS)}")
_RENEW = f"UPDATE jobs SET lease_until = ? WHERE lease_owner = ? AND {_LIVE} RETURNING job_id"
_RELEASE = "UPDATE jobs SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?"
_RELEASE_SOME = f"{_RELEASE} AND job_id IN (SELECT value FROM json_each(?))"
# One statement: the request is recorded and the lease taken (or left to its live holder) atomically.
# Every expression in SET reads the row as it was before this update.
_FREE_OR_MINE = "(lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?)"
_REQUEST_CANCEL = (
    f"UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?), "
    f"lease_until = CASE WHEN {_FREE_OR_MINE} THEN ? ELSE lease_until END, "
    f"lease_owner = CASE WHEN {_FREE_OR_MINE} THEN ? ELSE lease_owner END "
    f"WHERE job_id = ? AND state NOT IN ({UNCANCELLABLE_SQL}) RETURNING {', '.join(COLUMNS)}")
_CANCEL_REQUESTS = (f"SELECT job_id FROM jobs WHERE lease_owner = ? AND cancel_requested_at IS NOT NULL "
                    f"AND state NOT IN ({UNCANCELLABLE_SQL})")
# A parked job is run by nobody: whoever acts on its answer takes it, from any holder, in one statement.
_TAKE_PARKED = (f"UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE job_id = ? "
                f"AND state = '{PARKED}' AND cancel_requested_at IS NULL RETURNING {', '.join(COLUMNS)}")


_Queued = tuple[tuple[Any, ...], "asyncio.Future[bool]"]


class SqliteJobStore:
    """Saves are group-committed: saves that arrive while a batch is being written wait for the next
    batch, and a batch is one ``executemany`` and one commit. A caller still returns only once its row
    is committed, so "record before the side effect" holds; under load (10,000 jobs in flight, 200
    messages/s) this turns thousands of thread hops and commits per second into a few dozen batches."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows = JobEncoder()
        self._queued: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    @mapped_store_errors
    async def insert(self, job: Job) -> tuple[Job, bool]:
        if await self._db.change(_INSERT, self._rows.values(job)) == 1:
            return job, True
        existing = await self.by_key(job.idempotency_key)
        if existing is None:  # pragma: no cover - the UNIQUE conflict guarantees a row
            raise RuntimeError("idempotency conflict without a stored job")
        return existing, False

    @mapped_store_errors
    async def save(self, job: Job) -> None:
        landed: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queued.append(((*self._rows.saved(job), job.job_id, job.lease_owner), landed))
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_queued())
        if not await landed:
            raise LeaseLostError(f"job {job.job_id} is no longer held by {job.lease_owner}")

    async def _write_queued(self) -> None:
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    saved = await self._db.change_many(_UPDATE, [values for values, _ in batch])
                    lost = await self._not_held(batch) if saved != len(batch) else set()
                except Exception as exc:  # every waiter of the batch sees the failure
                    for _, landed in batch:
                        if not landed.done():
                            landed.set_exception(exc)
                    continue
                except BaseException:
                    for _, landed in batch:
                        landed.cancel()
                    raise
                for values, landed in batch:
                    if not landed.done():
                        landed.set_result(values[-2] not in lost)
        finally:
            self._writer = None

    async def _not_held(self, batch: list[_Queued]) -> set[str]:
        """The jobs of a batch whose fenced update did not land (another replica holds them now)."""
        expected = {values[-2]: values[-1] for values, _ in batch}
        rows = await self._db.rows(
            "SELECT job_id, lease_owner FROM jobs WHERE job_id IN (SELECT value FROM json_each(?))",
            (_json_list(list(expected)),))
        owners = {str(row[0]): row[1] for row in rows}
        return {job_id for job_id, owner in expected.items()
                if job_id not in owners or owners[job_id] != owner}

    @mapped_store_errors
    async def get(self, job_id: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE job_id = ?", job_id)

    @mapped_store_errors
    async def by_key(self, idempotency_key: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE idempotency_key = ?", idempotency_key)

    @mapped_store_errors
    async def unfinished(self) -> Sequence[Job]:
        rows = await self._db.rows(
            f"{_SELECT} WHERE state NOT IN ({TERMINAL_SQL}) ORDER BY created_at, job_id")
        return [job_from_row(r) for r in rows]

    @mapped_store_errors
    async def claim(self, owner: str, now: float, until: float, limit: int,
                    platforms: Collection[str]) -> Sequence[Job]:
        args = (owner, until, _json_list(platforms), now, limit)
        rows = await self._db.returning(_CLAIM, args)
        return sorted((job_from_row(r) for r in rows), key=lambda j: (j.created_at, j.job_id))

    @mapped_store_errors
    async def renew(self, owner: str, until: float) -> frozenset[str]:
        rows = await self._db.returning(_RENEW, (until, owner))
        return frozenset(str(r[0]) for r in rows)

    @mapped_store_errors
    async def release(self, owner: str, job_ids: Sequence[str] | None = None) -> None:
        if job_ids is None:
            await self._db.change(_RELEASE, (owner,))
        else:
            await self._db.change(_RELEASE_SOME, (owner, _json_list(job_ids)))

    @mapped_store_errors
    async def request_cancel(self, job_id: str, owner: str, now: float, until: float) -> Job | None:
        args = (now, owner, now, until, owner, now, owner, job_id)
        rows = await self._db.returning(_REQUEST_CANCEL, args)
        return job_from_row(rows[0]) if rows else await self.get(job_id)

    @mapped_store_errors
    async def cancel_requests(self, owner: str) -> frozenset[str]:
        rows = await self._db.rows(_CANCEL_REQUESTS, (owner,))
        return frozenset(str(r[0]) for r in rows)

    @mapped_store_errors
    async def take_parked(self, job_id: str, owner: str, until: float) -> Job | None:
        rows = await self._db.returning(_TAKE_PARKED, (owner, until, job_id))
        return job_from_row(rows[0]) if rows else None

    async def _one(self, sql: str, arg: str) -> Job | None:
        row = await self._db.first(sql, (arg,))
        return job_from_row(row) if row is not None else None


def _json_list(values: Collection[str]) -> str:
    return json.dumps(list(values))


# For read-only queries beside the store (adapters.sqlite.history).
SELECT_JOBS = _SELECT
