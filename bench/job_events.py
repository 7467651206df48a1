"""Per-event cost of the service with N jobs in flight (issue #16 item 2: no O(N) work per job event).

N running jobs are resumed by ``GenerationService.start()`` from an in-memory store; each is parked in a
status poll that an in-memory gateway answers only when told. Then ``--finish`` of them get their answer
("succeeded") at once and run to the end (result, done, task bookkeeping). Reported: bot CPU
microseconds per finished job at each N (flat = O(1) per event; the old ``_forget`` grew linearly). The
clock is a ``FakeClock`` that never moves, so no timer fires and the figure is pure per-event work.

Run: ``.venv/bin/python -m bench.job_events [--n 1000 10000 50000] [--finish 1000]``. Reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Sequence

from bot.runtime import settle_heap
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import UxEvent
from core.ports import TaskProgress, TaskSnapshot
from core.request import GenerationRequest
from core.types import Conversation, Language, MediaResult, MediaType, Platform, TaskType


class MemoryJobs:
    def __init__(self, jobs: Sequence[Job]) -> None:
        self.rows = {job.job_id: job for job in jobs}

    async def insert(self, job: Job) -> tuple[Job, bool]:
        self.rows[job.job_id] = job
        return job, True

    async def save(self, job: Job) -> None:
        self.rows[job.job_id] = job

    async def get(self, job_id: str) -> Job | None:
        return self.rows.get(job_id)

    async def by_key(self, idempotency_key: str) -> Job | None:
        return None

    async def unfinished(self) -> Sequence[Job]:
        return [job for job in self.rows.values() if not job.state.terminal]


class HeldGateway:
    """``get_task`` waits until the bench releases that task."""

    def __init__(self, expected: int) -> None:
        self.waiting: dict[str, asyncio.Future[TaskSnapshot]] = {}
        self.all_parked = asyncio.Event()
        self._expected = expected

    async def get_task(self, task_id: str) -> TaskSnapshot:
        future = asyncio.get_running_loop().create_future()
        self.waiting[task_id] = future
        if len(self.waiting) == self._expected:
            self.all_parked.set()
        return await future

    def release(self, task_id: str) -> None:
        media = MediaResult(url=f"https://cdn.example/{task_id}.png", kind=MediaType.IMAGE)
        self.waiting.pop(task_id).set_result(TaskSnapshot(task_id, TaskProgress.SUCCEEDED, (media,)))


class NullSink:
    async def emit(self, event: UxEvent) -> str | None:
        return event.message_ref or "m"


def running_job(i: int, now: float) -> Job:
    conversation = Conversation(Platform.CONSOLE, chat_id="c", user_id=f"u{i}", message_id=f"m{i}")
    request = GenerationRequest(MediaType.IMAGE, TaskType.TEXT_TO_IMAGE, "a cat", Language.EN)
    return Job(job_id=f"j{i}", idempotency_key=f"console:m{i}", conversation=conversation, request=request,
               state=JobState.RUNNING, created_at=now - 10, updated_at=now - 10,
               model_id="doubao-seedream-4.5", task_id=f"t{i}", submitted_at=now - 10,
               message_refs={"status": "m"})


class GcPauses:
    """Every collection's pause, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))


async def per_finish_us(n: int, finish: int, tuned_gc: bool = False, pauses: GcPauses | None = None) -> float:
    clock = FakeClock(auto=False)
    jobs = MemoryJobs([running_job(i, clock.now()) for i in range(n)])
    gateway = HeldGateway(n)
    deps = RunnerDeps(gateway=gateway, jobs=jobs, preferences=None,  # type: ignore[arg-type]
                      catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
                      sinks={Platform.CONSOLE: NullSink()}, fetchers={})
    service = GenerationService(deps, ServiceConfig(max_concurrent_jobs=n))
    await service.start()
    await gateway.all_parked.wait()
    if tuned_gc:
        settle_heap()
    else:
        gc.collect()
    if pauses is not None:
        gc.callbacks.append(pauses)
    cpu0 = time.process_time()
    for i in range(finish):
        gateway.release(f"t{i}")
    await asyncio.gather(*(service.wait_for(f"j{i}") for i in range(finish)))
    cpu = time.process_time() - cpu0
    if pauses is not None:
        gc.callbacks.remove(pauses)
    await service.aclose()
    return cpu / finish * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--finish", type=int, default=1_000)
    parser.add_argument("--gc", action="store_true", help="compare the default collector with bot.runtime's")
    args = parser.parse_args(argv)
    if args.gc:
        print(f"{'N':>7} {'collector':>9} {'µs/job':>7} {'collections':>11} {'full':>5} {'max pause ms':>13} "
              f"{'GC ms total':>12}")
        for n in args.n:
            for tuned in (False, True):
                pauses = GcPauses()
                us = asyncio.run(per_finish_us(n, min(args.finish, n), tuned, pauses))
                full = [d for g, d in pauses.pauses if g == 2]
                print(f"{n:>7} {'tuned' if tuned else 'default':>9} {us:>7.0f} {len(pauses.pauses):>11} "
                      f"{len(full):>5} {max((d for _, d in pauses.pauses), default=0) * 1e3:>13.1f} "
                      f"{sum(d for _, d in pauses.pauses) * 1e3:>12.1f}", flush=True)
                gc.unfreeze()
                gc.set_threshold(700, 10, 10)
        return 0
    print(f"{'N in flight':>12} {'CPU µs per finished job':>24}")
    for n in args.n:
        us = asyncio.run(per_finish_us(n, min(args.finish, n)))
        print(f"{n:>12} {us:>24.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
