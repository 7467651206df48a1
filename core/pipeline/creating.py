"""The create step of a job: ``SUBMITTING`` in the store means exactly "a create request may have left".

The runner hands the gateway a ``CreateMarks`` (``core.ports.CreateWatch``). The job is saved as
``SUBMITTING`` right before each create request is really sent: after the product list, the quote and
the wait for a slot in the client's queue, none of which can create anything. After a refusal that
proves nothing was created (429/503, a validation code, no connection) it is saved back as
``ACKNOWLEDGED``, so a crash during the Retry-After wait resumes and creates once instead of ending
"lost". A crash while ``SUBMITTING`` is stored ends the job ``LOST`` on restart: IMA has no idempotency
key and no task list, so what may exist is never created again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from random import Random

from core.clock import Clock
from core.errors import ImabotError, StoreUnavailableError
from core.jobs import Job, JobState
from core.pipeline.durability import JobRecorder
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSpec

log = logging.getLogger(__name__)
CREATE_ATTEMPTS = 3  # a create refused with 429/503 (no task exists) is tried again, waiting Retry-After
CREATE_RETRY_CAP_S = 60.0


class CreateMarks:
    """Records where one job's create stands (a ``CreateWatch``); ``job`` is its newest state."""

    def __init__(self, job: Job, recorder: JobRecorder, clock: Clock) -> None:
        self.job = job
        self._recorder = recorder
        self._clock = clock
        self._out = False

    def may_have_left(self) -> bool:
        """From the start of ``sending`` (its record may be written) until a refusal is recorded."""
        return self._out

    async def sending(self) -> None:
        self._out = True
        if self.job.state is JobState.SUBMITTING:  # a reflection attempt right after a refusal
            return
        job = self.job.advance(JobState.SUBMITTING, self._clock.now())
        await self._recorder.save(job)  # never create what could not be recorded as being created
        self.job = job

    async def refused(self) -> None:
        if self.job.state is not JobState.SUBMITTING:
            return
        self.job = self.job.advance(JobState.ACKNOWLEDGED, self._clock.now())
        try:
            await self._recorder.save(self.job)
        except StoreUnavailableError:  # the stored SUBMITTING errs on the safe side: never re-created
            log.warning("job %s: could not record that its create was refused", self.job.job_id)
            return
        self._out = False


async def create_retrying(
    gateway: ImaGateway, spec: TaskSpec, clock: Clock, on_busy: Callable[[], Awaitable[None]], *, seed: str,
    watch: CreateWatch | None = None,
) -> CreatedTask:
    """A create refused with 429/503 created nothing (the client marks it ``not_created`` and tells
    ``watch``): wait the Retry-After (capped, jittered up to +25 %) and try again, at most
    ``CREATE_ATTEMPTS`` times in all, telling the user the service is busy. Any other failure, or the
    last one, is raised as it is."""
    rng: Random | None = None  # made on a first refusal: seeding costs more than most creates' bookkeeping
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return await gateway.create_task(spec, watch)
        except ImabotError as exc:
            if exc.params.get("not_created") != "1" or attempt == CREATE_ATTEMPTS:
                raise
            wait = min(CREATE_RETRY_CAP_S, exc.retry_after or 2.0**attempt)
            log.info("create refused (%s); retrying in %.1f s", exc.kind.value, wait)
            await on_busy()
            rng = rng or Random(f"{seed}:create")
            await clock.sleep(wait * (1.0 + rng.random() * 0.25))
    raise AssertionError("unreachable")  # pragma: no cover
