"""The service's job tasks: one tracked asyncio task per job, at most ``limit`` running the job at once;
the others wait for a slot and are reported as the queue length. Once closed, no task is started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from core.jobs import Job
from core.ops.log_context import about_job
from core.ops.telemetry import Telemetry

log = logging.getLogger(__name__)


class JobTasks:
    def __init__(self, run: Callable[[Job], Awaitable[object]], limit: int, telemetry: Telemetry) -> None:
        self._run_job = run
        self._telemetry = telemetry
        self._slots = asyncio.Semaphore(max(1, limit))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._to_run: dict[str, Job] = {}  # the job a task will run once it may start (the latest given)
        self._waiting = 0  # jobs waiting for a free slot (reported as the queue length)
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._tasks

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Start no task from now on (those running go on until ``stop_all``)."""
        self._closed = True

    def job_ids(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def spawn(self, job: Job) -> None:
        """Run ``job`` in a task of its own; a task of this job that is still waiting to start runs this
        newer state of it instead (e.g. resumed while parked, then confirmed before it could start)."""
        if self._closed:
            return
        if job.job_id in self._tasks:
            if job.job_id in self._to_run:
                self._to_run[job.job_id] = job
            return
        self._to_run[job.job_id] = job
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job-{job.job_id}")
        self._tasks[job.job_id] = task
        task.add_done_callback(partial(self._forget, job.job_id))

    def drop(self, job_id: str) -> asyncio.Task[None] | None:
        """Cancel ``job_id``'s task (if running here) without waiting; returns it."""
        self._to_run.pop(job_id, None)
        if (task := self._tasks.pop(job_id, None)) is not None:
            task.cancel()
        return task

    async def stop(self, job_id: str) -> bool:
        """Cancel ``job_id``'s task and wait until it has ended; False when none was running here."""
        if (task := self.drop(job_id)) is None:
            return False
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def wait_for(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def stop_all(self) -> list[str]:
        """Cancel every task, wait for them, and return the ids of the jobs they ran."""
        held, tasks = list(self._tasks), list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._to_run.clear()
        return held

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        """O(1): a job's finished task leaves the table (unless a newer task took its place)."""
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]
            self._to_run.pop(job_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("job task %s died: %s", task.get_name(), type(task.exception()).__name__)

    async def _run(self, job: Job) -> None:
        self._waiting += 1
        self._telemetry.queue_length(self._waiting)
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
            self._telemetry.queue_length(self._waiting)
        try:
            job = self._to_run.pop(job.job_id, job)
            with about_job(job):  # every log line of this job's task names the job
                await self._run_job(job)
        finally:
            self._slots.release()
