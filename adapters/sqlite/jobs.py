"""SQLite implementation of ``core.jobs.JobStore`` (table from migration 0002)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from adapters.sqlite.db import Database
from core.errors import ErrorKind
from core.jobs import (
    TERMINAL_STATES,
    Job,
    JobState,
    conversation_from_dict,
    conversation_to_dict,
    media_from_json,
    media_to_json,
    request_from_json,
    request_to_json,
)

_COLUMNS = (
    "job_id", "idempotency_key", "platform", "chat_id", "user_id", "message_id", "conversation", "request",
    "state", "model_id", "model_name", "credits", "eta_min_s", "eta_max_s", "task_id", "created_at",
    "updated_at", "submitted_at", "finished_at", "message_refs", "result", "error_kind", "error_params",
    "notes", "hints", "from_preference", "notice_only", "parent_job_id", "polls",
)
_INSERT = (f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
           "ON CONFLICT(idempotency_key) DO NOTHING")
_UPDATE = f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in _COLUMNS[1:])} WHERE job_id = ?"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM jobs"
_TERMINAL = ", ".join(f"'{s.value}'" for s in TERMINAL_STATES)


def _row(job: Job) -> tuple[Any, ...]:
    conv = job.conversation
    return (
        job.job_id, job.idempotency_key, conv.platform.value, conv.chat_id, conv.user_id, conv.message_id,
        json.dumps(conversation_to_dict(conv), ensure_ascii=False), request_to_json(job.request),
        job.state.value, job.model_id, job.model_name, job.credits,
        job.eta_s[0] if job.eta_s else None, job.eta_s[1] if job.eta_s else None, job.task_id,
        job.created_at, job.updated_at, job.submitted_at, job.finished_at,
        json.dumps(dict(job.message_refs)), media_to_json(job.result) if job.result else None,
        job.error_kind.value if job.error_kind else None,
        json.dumps(dict(job.error_params), ensure_ascii=False),
        json.dumps(list(job.notes), ensure_ascii=False), json.dumps(list(job.hints), ensure_ascii=False),
        int(job.from_preference), int(job.notice_only), job.parent_job_id, job.polls,
    )


def _job(row: aiosqlite.Row) -> Job:
    eta = (int(row["eta_min_s"]), int(row["eta_max_s"])) if row["eta_min_s"] is not None else None
    return Job(
        job_id=row["job_id"],
        idempotency_key=row["idempotency_key"],
        conversation=conversation_from_dict(json.loads(row["conversation"])),
        request=request_from_json(row["request"]),
        state=JobState(row["state"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        model_id=row["model_id"],
        model_name=row["model_name"],
        credits=row["credits"],
        eta_s=eta,
        task_id=row["task_id"],
        submitted_at=row["submitted_at"],
        finished_at=row["finished_at"],
        message_refs=json.loads(row["message_refs"]),
        result=media_from_json(row["result"]),
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
        error_params=json.loads(row["error_params"]),
        notes=tuple(json.loads(row["notes"])),
        hints=tuple(json.loads(row["hints"])),
        from_preference=bool(row["from_preference"]),
        notice_only=bool(row["notice_only"]),
        parent_job_id=row["parent_job_id"],
        polls=int(row["polls"]),
    )


class SqliteJobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, job: Job) -> tuple[Job, bool]:
        conn = self._db.conn
        async with conn.execute(_INSERT, _row(job)) as cursor:
            inserted = cursor.rowcount == 1
        await conn.commit()
        if inserted:
            return job, True
        existing = await self.by_key(job.idempotency_key)
        if existing is None:  # pragma: no cover - the UNIQUE conflict guarantees a row
            raise RuntimeError("idempotency conflict without a stored job")
        return existing, False

    async def save(self, job: Job) -> None:
        values = _row(job)
        await self._db.conn.execute(_UPDATE, (*values[1:], job.job_id))
        await self._db.conn.commit()

    async def get(self, job_id: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE job_id = ?", job_id)

    async def by_key(self, idempotency_key: str) -> Job | None:
        return await self._one(f"{_SELECT} WHERE idempotency_key = ?", idempotency_key)

    async def unfinished(self) -> Sequence[Job]:
        async with self._db.conn.execute(
            f"{_SELECT} WHERE state NOT IN ({_TERMINAL}) ORDER BY created_at, job_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [_job(r) for r in rows]

    async def _one(self, sql: str, arg: str) -> Job | None:
        async with self._db.conn.execute(sql, (arg,)) as cursor:
            row = await cursor.fetchone()
        return _job(row) if row is not None else None


# For read-only queries beside the store (adapters.sqlite.history).
SELECT_JOBS = _SELECT
job_from_row = _job
