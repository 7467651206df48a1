"""Which job a log line is about, carried in a context variable: set once where a job's work starts (its
asyncio task copies the context, so every line it and the adapters it calls write carries the job). The
log formatter (``bot.logs``) adds the fields; user ids appear only as their stable hash."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from core.jobs import Job
from core.ops.history import user_hash

_FIELDS: ContextVar[Mapping[str, str] | None] = ContextVar("imabot_log_fields", default=None)


def job_fields(job: Job) -> dict[str, str]:
    c = job.conversation
    return {"job_id": job.job_id, "platform": c.platform.value, "chat": c.chat_id,
            "user": user_hash(c.platform.value, c.user_id)}


@contextmanager
def about_job(job: Job) -> Iterator[None]:
    token = _FIELDS.set(job_fields(job))
    try:
        yield
    finally:
        _FIELDS.reset(token)


def current_fields() -> Mapping[str, str]:
    return _FIELDS.get() or {}
