"""N concurrent generation jobs in one process: the real service, SQLite job store and IMA client
against the in-process simulator, all on a FakeClock (a 6-minute video costs no wall time).

Reports peak RSS, CPU seconds and status polls per task for each N. Reported, not asserted.
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

import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.preferences import SqlitePreferenceStore
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.jobs import JobState
from core.messages import Messages
from core.pipeline.runner import RunnerDeps
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


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def run(n: int, workdir: Path) -> Result:
    clock = FakeClock()
    app = create_app(SimConfig(public_base_url="http://ima.sim", upload_base_url="http://ima.sim",
                               default_balance=10**9), clock=clock)
    transport = httpx.ASGITransport(app=app)
    sink = CountingSink()
    config = ImaClientConfig(base_url="http://ima.sim", upload_base_url="http://ima.sim", api_key=KEY)
    wall0, cpu0, virtual0 = time.perf_counter(), time.process_time(), clock.now()
    async with Database(workdir / f"bench-{n}.sqlite3") as db, ImaClient(config, transport=transport,
                                                                         clock=clock) as client:
        deps = RunnerDeps(gateway=client, jobs=SqliteJobStore(db), preferences=SqlitePreferenceStore(db),
                          catalog=ModelCatalog.load_default(), messages=Messages.from_package(), clock=clock,
                          sinks={Platform.CONSOLE: sink}, fetchers={})
        service = GenerationService(deps, ServiceConfig(max_concurrent_jobs=n))
        job_ids = []
        for i in range(n):
            conversation = Conversation(Platform.CONSOLE, chat_id=f"c{i % 50}", user_id=f"u{i}",
                                        message_id=f"bench-{n}-{i}")
            job_ids.append(await service.handle_message(conversation, REQUESTS[i % len(REQUESTS)]))
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
                  virtual_s=clock.now() - virtual0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args(argv)
    print(f"{'N':>6} {'done':>6} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'polls/task':>11} "
          f"{'virtual s':>10}")
    with tempfile.TemporaryDirectory(prefix="imabot-bench-") as tmp:
        for n in args.n:
            r = asyncio.run(run(n, Path(tmp)))
            print(f"{r.n:>6} {r.done:>6} {r.wall_s:>8.1f} {r.cpu_s:>8.1f} {r.peak_rss_mb:>12.1f} "
                  f"{r.polls_per_task:>11.1f} {r.virtual_s:>10.0f}", flush=True)
    print("peak RSS is the process high-water mark so far (it includes the smaller runs before).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
