"""Real-time benchmark (issue #16 item 5): N generations in flight at speed 1 against ``imabot sim`` running
as a SEPARATE process on loopback. The bot is this process, built exactly as ``imabot run`` builds it
(``bot.wiring.build_app``: SQLite, the IMA client's transports of ``--transport``, learned durations,
conversation layer), with a counting chat sink instead of a platform. Real clock, real sockets, nothing
faked but the chat platform.

Messages arrive at ``--rate`` per second (default 200) until N are taken in; the run ends when every job
is done or ``--max-s`` has passed. Reported (also as JSON with ``--json``):
- bot CPU cores (this process's CPU time / wall time, over the whole run and while all N are in
  flight), polls/s, CPU per poll, poll lateness p99 (how late each timer-driven wake-up was), RSS peak,
  IMA queue waits and transport errors, peak/local-mean poll rate (the busiest 1-s bucket against the
  mean of its ±15 s, once intake has ended: lockstep polling shows as spikes);
- ack latency p50/p99 (a message handed to the bot until its acknowledgment was shown) while jobs build up;
- per media type: jobs done, polls per task (and what the seeds' fixed interval would have needed for
  the same tasks), mean / p95 delivery lag (the simulator's ready time until the bot saw the result).

Run: ``.venv/bin/python -m bench.realtime --n 2000 [--mix chat|long] [--spread 0.2] [--gc tuned|default]
[--transport split|httpx|aiohttp] [--max-s 600]``. ``--gc tuned`` (default) tunes the collector as ``imabot
run`` does (``bot/runtime.py``). Reported, not asserted; the machine is shared, so the
load average is printed with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.runtime import GcPacer, settle_heap
from bot.settings import Settings, load_settings
from bot.wiring import build_app
from core.catalog.models import ModelCatalog
from core.clock import SystemClock
from core.jobs import Job, JobState
from core.ops.telemetry import NoTelemetry
from core.platform import UxEvent
from core.types import Conversation, Platform

KEY = "ima_realtime_bench_0123456789"
# A busy chat's mix on models whose simulated times keep a run bounded: mostly video, some images, a
# little music and speech. "long": only videos (150-210 s), so a 50-s intake puts all N in flight at once.
MIXES = {
    "chat": (["用万相生成一只柴犬在海边奔跑的视频"] * 3 + ["用海螺生成一段城市夜景延时视频"] * 3
             + ["画一只可爱的橘猫"] * 2 + ["来一段轻松的背景音乐", "把这句话转成语音：欢迎光临"]),
    "long": ["用万相生成一只柴犬在海边奔跑的视频", "用海螺生成一段城市夜景延时视频"],
}


class Observer(NoTelemetry):
    def __init__(self) -> None:
        self.detail_at: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.queue_waits = 0
        self.seen_result: dict[str, tuple[float, Job]] = {}
        self.done: dict[str, Job] = {}
        self.in_flight = 0  # created at IMA, not yet ended
        self.in_flight_peak = 0

    def ima_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        if endpoint == "detail":
            self.detail_at.append(time.time())
        if outcome != "ok":
            self.outcomes[f"{endpoint}:{outcome}"] += 1

    def ima_queue_wait(self, lane: str, seconds: float) -> None:
        self.queue_waits += 1

    def job_state(self, job: Job, previous: JobState | None) -> None:
        if job.state is JobState.SUBMITTED and previous is not JobState.SUBMITTED:
            self.in_flight += 1
            self.in_flight_peak = max(self.in_flight_peak, self.in_flight)
        elif job.state.terminal and job.task_id:  # done, failed or cancelled once created
            self.in_flight -= 1
        if job.state is JobState.DELIVERING and job.task_id:
            self.seen_result[job.task_id] = (time.time(), job)
        elif job.state is JobState.DONE:
            self.done[job.job_id] = job


class LatenessClock(SystemClock):
    """The real clock, recording how late every timed wake-up was (event-loop lag under load)."""

    def __init__(self) -> None:
        self.late: list[float] = []

    async def sleep(self, seconds: float) -> None:
        due = time.monotonic() + max(0.0, seconds)
        await asyncio.sleep(max(0.0, seconds))
        if seconds > 0:
            self.late.append(time.monotonic() - due)


class CountingSink:
    """Answers at once like a fast platform; notes when each message got its first reply (the ack)."""

    def __init__(self) -> None:
        self.events = 0
        self.handed: dict[str, float] = {}
        self.acks: list[float] = []

    async def emit(self, event: UxEvent) -> str | None:
        self.events += 1
        handed = self.handed.pop(event.conversation.message_id, None)
        if handed is not None:
            self.acks.append(time.perf_counter() - handed)
        return event.message_ref or f"m{self.events}"


@contextmanager
def simulator(spread: float) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "sim", "--port", "0", "--speed", "1",
                             "--spread", str(spread),
                             "--balance", str(10**12)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().decode().rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(30)


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_settings(base_url: str, data_dir: Path, transport: str = "split") -> Settings:
    settings = load_settings(None, env={"IMA_API_KEY": KEY})
    ima = settings.ima.model_copy(update={"base_url": base_url, "upload_base_url": base_url,
                                          "transport": transport})
    storage = settings.storage.model_copy(update={"data_dir": data_dir})
    bot = settings.bot.model_copy(update={"max_concurrent_jobs": 100_000, "default_language": "zh"})
    updated = settings.model_copy(update={"ima": ima, "storage": storage, "bot": bot})
    updated.secrets = settings.secrets
    return updated


async def run(n: int, rate: float, max_s: float, tuned_gc: bool, base_url: str, data_dir: Path,
              mix: str = "chat", transport: str = "split") -> dict[str, Any]:
    requests = MIXES[mix]
    observer, clock, sink = Observer(), LatenessClock(), CountingSink()
    rss_peak = 0.0
    async with build_app(bench_settings(base_url, data_dir, transport), clock=clock,
                         telemetry=observer) as app:
        app.context.sinks[Platform.CONSOLE] = sink
        await app.start()
        collector = GcPacer()
        if tuned_gc:  # as ``imabot run`` does
            settle_heap()
            collector.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        t_start = time.time()

        async def one(i: int) -> None:
            conversation = Conversation(Platform.CONSOLE, chat_id=f"c{i % 200}", user_id=f"u{i}",
                                        message_id=f"rt-{n}-{i}", is_direct=True)
            sink.handed[conversation.message_id] = time.perf_counter()
            await app.conversation.handle_message(conversation, requests[i % len(requests)])

        intake: list[asyncio.Task[None]] = []
        for i in range(n):  # open loop at ``rate`` msg/s, each message handled as the platform would
            delay = t_start + i / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            intake.append(asyncio.create_task(one(i)))
            if i % 200 == 0:
                rss_peak = max(rss_peak, rss_mb())
        await asyncio.gather(*intake)
        intake_end = time.time()
        cpu_intake = time.process_time() - cpu0
        in_flight_at_intake_end = observer.in_flight
        cpu_steady0, wall_steady0 = time.process_time(), time.perf_counter()
        steady_cpu = steady_wall = 0.0
        while len(observer.done) < n and time.time() - t_start < max_s:
            await asyncio.sleep(1.0)
            rss_peak = max(rss_peak, rss_mb())
            if observer.in_flight >= in_flight_at_intake_end * 0.9:  # still (nearly) all in flight
                steady_cpu = time.process_time() - cpu_steady0
                steady_wall = time.perf_counter() - wall_steady0
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        async with httpx.AsyncClient(trust_env=False, timeout=60) as http:
            tasks = (await http.get(f"{base_url}/_sim/tasks")).json()["tasks"]
        await collector.aclose()
        await app.service.aclose()
    ready = {t["id"]: t["created_at"] + t["finish_after"] for t in tasks}
    took = {t["id"]: t["finish_after"] for t in tasks}
    catalog = ModelCatalog.load_default()
    per_media: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for task_id, (seen, job) in observer.seen_result.items():
        media = job.media_type.value
        per_media[media]["lag"].append(seen - ready[task_id])
        per_media[media]["polls"].append(job.polls)
        # the seeds' fixed interval would poll at 1, 2, 3 ... intervals after the create call
        interval = catalog.timing_for(job.model_id, job.media_type).poll_interval_s
        per_media[media]["fixed"].append(math.ceil(took[task_id] / interval))
    # Lockstep shows as buckets far above their neighbourhood (±15 s) once intake has ended. A Poisson
    # stream of ~100 polls/s already varies ±10 % per 1-s bucket, so 5-s buckets are reported too.
    buckets = Counter(int(t) for t in observer.detail_at if t >= intake_end)
    span = range(int(intake_end) + 15, int(max(buckets, default=intake_end)) - 15)
    ratios = [buckets[t] / (sum(buckets[u] for u in range(t - 15, t + 16)) / 31) for t in span
              if sum(buckets[u] for u in range(t - 15, t + 16)) >= 31 * 20]  # where ≥ 20 polls/s
    def local(t: int) -> float:
        return sum(buckets[u] for u in range(t - 15, t + 20)) / 35

    ratios5 = [sum(buckets[u] for u in range(t, t + 5)) / 5 / local(t) for t in span if local(t) >= 20]
    seconds = max(1, len(span))
    mean_rate = sum(buckets[t] for t in span) / seconds
    polls = len(observer.detail_at)
    return {
        "n": n, "mix": mix, "transport": transport, "gc": "tuned" if tuned_gc else "default",
        "load_avg": os.getloadavg()[0],
        "wall_s": round(wall, 1), "intake_s": round(intake_end - t_start, 1),
        "bot_cores": round(cpu / wall, 3), "cpu_intake_s": round(cpu_intake, 1),
        "in_flight_peak": observer.in_flight_peak, "in_flight_at_intake_end": in_flight_at_intake_end,
        "bot_cores_while_in_flight": round(steady_cpu / steady_wall, 3) if steady_wall else None,
        "in_flight_window_s": round(steady_wall, 1),
        "polls": polls, "polls_per_s": round(polls / wall, 1),
        "cpu_per_poll_ms": round(cpu / max(1, polls) * 1000, 3),
        "poll_lateness_p99_s": round(pct(clock.late, 0.99), 3),
        "ack_p50_ms": round(pct(sink.acks, 0.5) * 1000, 2),
        "ack_p99_ms": round(pct(sink.acks, 0.99) * 1000, 2),
        "rss_peak_mb": round(rss_peak, 1), "queue_waits": observer.queue_waits,
        "errors": dict(observer.outcomes), "transport_errors": sum(v for k, v in observer.outcomes.items()
                                                                    if "network" in k),
        "poll_rate_mean_after_intake": round(mean_rate, 1),
        "poll_rate_peak_after_intake": max((buckets[t] for t in span), default=0),
        "peak_over_local_mean": round(max(ratios), 2) if ratios else None,
        "peak_over_local_mean_5s": round(max(ratios5), 2) if ratios5 else None,
        "done": len(observer.done),
        "per_media": {media: {"done": len(v["lag"]), "polls_per_task": round(statistics.fmean(v["polls"]), 2),
                              "fixed_interval_polls": round(statistics.fmean(v["fixed"]), 2),
                              "lag_mean_s": round(statistics.fmean(v["lag"]), 2),
                              "lag_p95_s": round(pct(v["lag"], 0.95), 2)}
                      for media, v in sorted(per_media.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--max-s", type=float, default=600.0)
    parser.add_argument("--gc", choices=["tuned", "default"], default="tuned")
    parser.add_argument("--spread", type=float, default=0.2,
                        help="the simulator's lognormal sigma of task times (0 = every task exact)")
    parser.add_argument("--mix", choices=["chat", "long"], default="chat",
                        help="chat: a busy chat's mix; long: only jobs longer than the intake, so all N "
                             "are in flight together")
    parser.add_argument("--transport", choices=["split", "httpx", "aiohttp"], default="split")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with simulator(args.spread) as base_url, tempfile.TemporaryDirectory(prefix="imabot-rt-") as tmp:
        result = asyncio.run(run(args.n, args.rate, args.max_s, args.gc == "tuned", base_url, Path(tmp),
                                 args.mix, args.transport))
        result["sim_spread"] = args.spread
    gc.collect()
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
