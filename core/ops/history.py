"""Read-only questions operators ask about jobs (``imabot jobs/job``, the status page, /metrics):
a Protocol each store backend answers, and the stable user hash logs carry instead of raw user ids."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.jobs import Job, JobState


def user_hash(platform: str, user_id: str) -> str:
    """Stable, short and the same in every log line, CLI output and status page for one user."""
    return hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class JobFilter:
    states: tuple[JobState, ...] = ()
    user: str | None = None  # a platform user id or its ``user_hash``
    since: float | None = None  # accepted at or after (epoch seconds)
    limit: int = 50


@dataclass(frozen=True, slots=True)
class StateChange:
    state: JobState
    at: float


class JobHistory(Protocol):
    async def find(self, query: JobFilter) -> Sequence[Job]:
        """Newest first."""
        ...

    async def lookup(self, job_or_task_id: str) -> Job | None:
        """A job by its id or by its IMA task id."""
        ...

    async def changes(self, job_id: str) -> Sequence[StateChange]:
        """Every state the job entered, oldest first."""
        ...

    async def unfinished_counts(self) -> Mapping[tuple[str, str], int]:
        """(state, media_type) -> number of unfinished jobs."""
        ...
