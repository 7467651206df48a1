"""Throughput of one ``imabot run`` replica against three (issue #15), on one PostgreSQL.

Everything is a real process on loopback except the chat platform: ``imabot sim`` (a separate process,
high ``--speed`` so a picture takes milliseconds at IMA and the bot's own work dominates), embedded
PostgreSQL 18, N replicas of ``imabot run`` (the processes of tests/test_chaos_replicas.py, from
tests/support/replicas.py), and the Feishu fake taking webhook events from a "load balancer" (this
process, round robin) and the bot's sends. ``--jobs`` picture requests (default 300), each its own DM,
are posted as fast as ``--posters`` concurrent connections allow.

Reported per replica count (``--json`` for machine-readable lines): jobs/s from the first message posted
until every picture was delivered, creates/s and polls/s seen by the simulator, CPU seconds (and cores)
of each replica, of the simulator, of PostgreSQL and of this process (fake + load balancer), and the
load average. Reported, not asserted: the machine is shared, so the load average is printed with it.

Run: ``.venv/bin/python -m bench.replicas [--jobs 300] [--counts 1,3] [--speed 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.support.backends import embedded_postgres
from tests.support.replicas import (
    children,
    cpu_seconds,
    event_body,
    fresh_database,
    parent_of,
    post_anywhere,
    query,
    replicas,
)
from tests.test_run_subprocess import running_simulator

LEASE_S = 30.0  # no replica dies here: the production default


async def _sim_calls(http: httpx.AsyncClient, sim_url: str) -> Counter[str]:
    response = await http.get(f"{sim_url}/_sim/tasks")
    response.raise_for_status()
    return Counter(response.json()["calls"])


def _delivered(fake: FakeFeishu) -> int:
    return len({m.chat_id for m in fake.messages if m.msg_type == "image"})


def _sim_pid() -> int:
    """The ``imabot sim`` child of this process."""
    for pid in children(os.getpid()):
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            if b"sim" in handle.read().split(b"\0"):
                return pid
    return 0


async def _postmaster_pid(db_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        return parent_of(int(row[0]))  # read while the backend lives


async def one_run(count: int, jobs: int, posters: int, postgres_url: str, sim_url: str, workdir: Path,
                  max_s: float) -> dict[str, Any]:
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        (await http.post(f"{sim_url}/_sim/reset")).raise_for_status()
    with fresh_database(postgres_url, f"bench_replicas_{count}_{os.getpid()}") as db_url:
        async with running_fake() as fake, \
                replicas(count, workdir / f"n{count}", sim_url, db_url, fake, lease_s=LEASE_S) as group, \
                httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=posters)) as http:
            sim_pid, pg_pid = _sim_pid(), await _postmaster_pid(db_url)
            calls0 = await _sim_calls(http, sim_url)
            cpu0 = [r.cpu_s() for r in group]
            sim0, pg0, own0 = cpu_seconds(sim_pid), cpu_seconds(pg_pid, tree=True), time.process_time()
            load0 = os.getloadavg()
            turn = asyncio.Semaphore(posters)

            async def post(i: int) -> None:
                async with turn:
                    await post_anywhere(http, group, event_body(fake, i, prefix="bench"), i % count)

            started = time.monotonic()
            await asyncio.gather(*(post(i) for i in range(jobs)))
            posted_s = time.monotonic() - started
            await fake.wait_until(lambda f: _delivered(f) >= jobs, within_s=max_s)
            elapsed = time.monotonic() - started
            cpu = [r.cpu_s() - c for r, c in zip(group, cpu0, strict=True)]
            sim_cpu = cpu_seconds(sim_pid) - sim0
            pg_cpu = cpu_seconds(pg_pid, tree=True) - pg0
            own_cpu = time.process_time() - own0
            calls = await _sim_calls(http, sim_url) - calls0
            states = Counter(state for (state,) in await query(db_url, "SELECT state FROM jobs"))
            load1 = os.getloadavg()
    creates, polls = calls["tasks/create"], calls["tasks/detail"]
    return {
        "replicas": count, "jobs": jobs, "delivered": _delivered(fake), "states": dict(states),
        "elapsed_s": round(elapsed, 2), "posted_s": round(posted_s, 2),
        "jobs_per_s": round(jobs / elapsed, 2), "creates_per_s": round(creates / elapsed, 2),
        "polls_per_s": round(polls / elapsed, 2), "polls_per_job": round(polls / max(1, jobs), 2),
        "cpu_s_per_replica": [round(c, 2) for c in cpu],
        "cores_per_replica": [round(c / elapsed, 2) for c in cpu],
        "cpu_ms_per_job_bot": round(sum(cpu) / jobs * 1000, 1),
        "cpu_s_sim": round(sim_cpu, 2), "cpu_s_postgres": round(pg_cpu, 2),
        "cpu_s_fake_and_lb": round(own_cpu, 2),
        "load_avg_before": [round(x, 2) for x in load0], "load_avg_after": [round(x, 2) for x in load1],
    }


def _line(r: dict[str, Any]) -> str:
    return (f"replicas={r['replicas']} jobs={r['jobs']} delivered={r['delivered']} elapsed={r['elapsed_s']}s "
            f"(posted in {r['posted_s']}s) jobs/s={r['jobs_per_s']} creates/s={r['creates_per_s']} "
            f"polls/s={r['polls_per_s']} ({r['polls_per_job']}/job) cpu/replica={r['cpu_s_per_replica']}s "
            f"cores/replica={r['cores_per_replica']} bot cpu/job={r['cpu_ms_per_job_bot']}ms "
            f"sim={r['cpu_s_sim']}s postgres={r['cpu_s_postgres']}s fake+lb={r['cpu_s_fake_and_lb']}s "
            f"load {r['load_avg_before'][0]}->{r['load_avg_after'][0]}")


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.counts.split(",")]
    print(f"cores {os.cpu_count()}; load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="imabot-bench-replicas-") as tmp, \
            embedded_postgres() as postgres_url, running_simulator(Path(tmp), speed=args.speed) as sim_url:
        for _ in range(args.rounds):
            for count in counts:
                result = await one_run(count, args.jobs, args.posters, postgres_url, sim_url, Path(tmp),
                                       args.max_s)
                print(json.dumps(result) if args.json else _line(result), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--counts", default="1,3", help="replica counts to compare, in order")
    parser.add_argument("--speed", type=float, default=2000.0, help="the simulator's speed-up")
    parser.add_argument("--posters", type=int, default=32, help="concurrent webhook posts")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-s", type=float, default=600.0)
    parser.add_argument("--json", action="store_true")
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
