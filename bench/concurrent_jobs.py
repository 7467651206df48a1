"""N concurrent generation jobs in one process: the real service, SQLite job store and IMA client
against the in-process simulator, all on a FakeClock (a 6-minute video costs no wall time).

Virtual time stands still while the N messages are taken in and their tasks created, so all N jobs are
truly in flight together before the first one can finish; then it runs on. Reports how many were in
flight at most (= N), peak RSS, CPU seconds, status polls per task and the virtual seconds the batch
took (the same on every run: the poll jitter is seeded per message). Reported, not asserted.
Run: ``make bench`` or ``.venv/bin/python -m bench.concurrent_jobs [--n 100 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.preferences import SqlitePreferenceStore
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.jobs import Job, JobState, JobStore
from core.messages import Messages
from core.pipeline.deps import RunnerDeps
from core.pipeline.service import GenerationService, ServiceConfig
from core.platform import Step, UxEvent
from core.types import Conversation, Platform
from sim.app import create_app
from sim.config import SimConfig

KEY = "ima_bench_0123456789abcdef"
# A mix like a busy chat: mostly video, some images, a little music and speech.
REQUESTS = (
    ["一只柴犬在海边奔跑"] * 6 + ["画一只可爱的橘猫"] * 2
    + ["来一段轻松的背景音乐", "把这句话转成语音：欢迎光临"]
)


class InFlight:
    """A job store that counts jobs between task creation and result (SUBMITTED / RUNNING)."""

    def __init__(self, inner: JobStore, n: int) -> None:
        self._inner = inner
        self._n = n
        self._flying: set[str] = set()
        self.most = 0
        self.all_in = asyncio.Event()

    async def save(self, job: Job) -> None:
        if job.state in (JobState.SUBMITTED, JobState.RUNNING):
            self._flying.add(job.job_id)
            self.most = max(self.most, len(self._flying))
            if self.most == self._n:
                self.all_in.set()
        else:
            self._flying.discard(job.job_id)
        await self._inner.save(job)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountingSink:
    """Counts events per step (keeps nothing else, so memory reflects the service, not the sink)."""

    def __init__(self) -> None:
        self.steps: Counter[Step] = Counter()

    async def emit(self, event: UxEvent) -> str | None:
        self.steps[event.step] += 1
        return event.message_ref or f"m-{event.job_id}-{self.steps[event.step]}"


@dataclass(frozen=True)
class Result:
    n: int
    done: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    polls_per_task: float
    virtual_s: float
    max_in_flight: int


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def run(n: int, workdir: Path) -> Result:
    clock = FakeClock(auto=False)  # held still during intake
    app = create_app(SimConfig(public_base_url="http://ima.sim", upload_base_url="http://ima.sim",
                               default_balance=10**9), clock=clock)
    transport = httpx.ASGITransport(app=app)
    sink = CountingSink()
    config = ImaClientConfig(base_url="http://ima.sim", upload_base_url="http://ima.sim", api_key=KEY)
    wall0, cpu0, virtual0 = time.perf_counter(), time.process_time(), clock.now()
    db_file = workdir / f"bench-{n}-{time.monotonic_ns()}.sqlite3"  # a fresh database every run
    async with Database(db_file) as db, ImaClient(config, transport=transport, clock=clock) as client:
        jobs = InFlight(SqliteJobStore(db), n)
        deps = RunnerDeps(gateway=client, jobs=jobs, preferences=SqlitePreferenceStore(db),
                          catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
                          sinks={Platform.CONSOLE: sink}, fetchers={})
        service = GenerationService(deps, ServiceConfig(max_concurrent_jobs=n))
        job_ids = []
        for i in range(n):
            conversation = Conversation(Platform.CONSOLE, chat_id=f"c{i % 50}", user_id=f"u{i}",
                                        message_id=f"bench-{n}-{i}")
            job_ids.append(await service.handle_message(conversation, REQUESTS[i % len(REQUESTS)]))
        await jobs.all_in.wait()  # every task created, none could finish: time has not moved
        clock.auto = True
        await service.wait_idle()
        done = 0
        for job_id in job_ids:
            job = await service.job(job_id) if job_id else None
            done += bool(job and job.state is JobState.DONE)
        await service.aclose()
    calls = app.state.sim.calls
    await transport.aclose()
    tasks = max(1, calls.get("tasks/create", 0))
    return Result(n=n, done=done, wall_s=time.perf_counter() - wall0, cpu_s=time.process_time() - cpu0,
                  peak_rss_mb=peak_rss_mb(), polls_per_task=calls.get("tasks/detail", 0) / tasks,
                  virtual_s=clock.now() - virtual0, max_in_flight=jobs.most)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args(argv)
    print(f"{'N':>6} {'in flight':>9} {'done':>6} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} "
          f"{'polls/task':>11} {'virtual s':>10}")
    with tempfile.TemporaryDirectory(prefix="imabot-bench-") as tmp:
        for n in args.n:
            r = asyncio.run(run(n, Path(tmp)))
            print(f"{r.n:>6} {r.max_in_flight:>9} {r.done:>6} {r.wall_s:>8.1f} {r.cpu_s:>8.1f} "
                  f"{r.peak_rss_mb:>12.1f} {r.polls_per_task:>11.1f} {r.virtual_s:>10.0f}", flush=True)
    print("peak RSS is the process high-water mark so far (it includes the smaller runs before).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
