"""Writing job rows through store trouble (issue #13 item 2): a paid task is never lost to a locked,
busy or full database.

Every save is retried with backoff while the store reports a transient failure
(``core.errors.StoreUnavailableError``), for a bounded time. Past that bound the caller decides: before
the create call the job fails (nothing was charged); after it, the job goes on from memory (polling
needs no store) and its newest state is written by the next save that gets through. Delivery waits
until the result is stored (``save_until_stored``): a result part must never be posted without the
record that lets a restart know it was posted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from random import Random

from core.clock import Clock
from core.errors import StoreUnavailableError
from core.jobs import Job, JobStore

log = logging.getLogger(__name__)

STORE_PATIENCE_S = 30.0  # one save keeps trying this long (a 10 s lock is ridden out silently)
FIRST_PAUSE_S = 0.25
MAX_PAUSE_S = 15.0


class JobRecorder:
    """Saves jobs into a ``JobStore`` patiently; remembers which jobs have newer state than the store."""

    def __init__(self, jobs: JobStore, clock: Clock, *, patience_s: float = STORE_PATIENCE_S) -> None:
        self._jobs = jobs
        self._clock = clock
        self._patience_s = patience_s
        self._behind: dict[str, Job] = {}  # job id -> newest state, while it is only in memory
        self._told: set[str] = set()  # jobs whose user was told that the store is down

    def behind(self, job_id: str) -> bool:
        """True while the store holds an older state of ``job_id`` than the runner does."""
        return job_id in self._behind

    def newest(self, job_id: str) -> Job | None:
        """The state not yet written for ``job_id`` (None when the store is up to date)."""
        return self._behind.get(job_id)

    def forget(self, job_id: str) -> None:
        self._behind.pop(job_id, None)
        self._told.discard(job_id)

    async def keep(self, job: Job, tell: Callable[[Job], Awaitable[Job]]) -> Job:
        """Save ``job`` (patiently, or once while the store is known to be down); if it stays down, go
        on from memory and, once a task exists, let ``tell`` tell the user, once per job."""
        try:
            if self.behind(job.job_id):
                await self.try_save(job)
            else:
                await self.save(job)
        except StoreUnavailableError:
            log.error("job %s: the job store is unavailable; going on from memory", job.job_id)
            if job.task_id and job.job_id not in self._told:
                self._told.add(job.job_id)
                return await tell(job)
        return job

    async def latest(self, job: Job) -> Job:
        """The newest state of ``job``: in memory while the store is behind, else the stored row."""
        newest = self.newest(job.job_id)
        if newest is not None:
            return newest
        try:
            return await self._jobs.get(job.job_id) or job
        except StoreUnavailableError:
            return job

    async def try_save(self, job: Job) -> None:
        """One attempt (the store is known to be down: do not hold the job up); raises like ``save``."""
        await self._retry(job, deadline=self._clock.now())

    async def save(self, job: Job) -> None:
        """Write ``job``, retrying a transient store failure for up to the patience; then raise
        ``StoreUnavailableError`` with the job remembered as not yet written."""
        await self._retry(job, deadline=self._clock.now() + self._patience_s)

    async def save_until_stored(self, job: Job) -> None:
        """Write ``job``, however long the store stays unavailable (pauses grow to ``MAX_PAUSE_S``);
        only a cancellation (shutdown) stops it."""
        await self._retry(job, deadline=None)

    async def _retry(self, job: Job, deadline: float | None) -> None:
        rng: Random | None = None  # made on the first failure: seeding costs more than a save
        pause = FIRST_PAUSE_S
        while True:
            try:
                await self._jobs.save(job)
            except StoreUnavailableError:
                self._behind[job.job_id] = job
                now = self._clock.now()
                if deadline is not None and now + pause > deadline:
                    raise
                rng = rng or Random(job.job_id)
                await self._clock.sleep(pause * (0.75 + rng.random() / 2))
                pause = min(MAX_PAUSE_S, pause * 2)
                continue
            self._behind.pop(job.job_id, None)
            return
