"""CPU per status poll through ``ImaClient.get_task`` for each HTTP transport under it, against ``imabot sim``
running as a separate process on loopback (issue #16 item 1: pick the transport by measurement).

Transports (``[ima] transport``): "split" (the default: polls over aiohttp's connector under httpx's
transport interface; other calls over httpx's pool), "httpx" (everything over httpx's own pool), httpx with
tuned limits (keep-alive for every connection), and raw aiohttp without httpx (the floor). For each,
``--concurrency`` workers poll real tasks for ``--polls`` requests; reported: client
process CPU µs per poll (user+sys of this process only; the simulator's CPU is its own) and polls/s.

Run: ``.venv/bin/python -m bench.http_transport [--polls 4000] [--concurrency 20 200]``. Reported, not
asserted; the machine is shared, so CPU time (not wall time) is the figure to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import aiohttp
import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.transport import TransportKind
from core.clock import SystemClock
from core.ports import TaskSpec
from core.types import TaskType

KEY = "ima_bench_transport_0123456789"
SPEC = TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "a red fox running through snow",
                params={"duration": 10})


@contextmanager
def simulator() -> Iterator[str]:
    """``imabot sim`` in its own process (speed 1: tasks stay "processing" for minutes)."""
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "sim", "--port", "0", "--balance", str(10**12)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


MakeTransport = Callable[[], httpx.AsyncBaseTransport | None]


def transports(concurrency: int) -> dict[str, tuple[TransportKind, MakeTransport]]:
    return {
        "split (default)": ("split", lambda: None),
        "httpx": ("httpx", lambda: None),
        "httpx tuned": ("httpx", lambda: httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            trust_env=False)),
    }


async def _drive(concurrency: int, polls: int,
                 poll: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    counter = iter(range(polls))

    async def worker() -> None:
        for i in counter:
            await poll(i)

    for i in range(concurrency):  # warm-up: every connection opened
        await poll(i)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / polls * 1e6, polls / wall


async def via_client(base_url: str, kind: TransportKind, make: MakeTransport,
                     concurrency: int, polls: int) -> tuple[float, float]:
    config = ImaClientConfig(base_url=base_url, upload_base_url=base_url, api_key=KEY, transport=kind)
    async with ImaClient(config, transport=make(), clock=SystemClock()) as client:
        task_ids = [(await client.create_task(SPEC)).task_id for _ in range(min(concurrency, 50))]
        return await _drive(concurrency, polls, lambda i: client.get_task(task_ids[i % len(task_ids)]))


async def via_raw_aiohttp(base_url: str, concurrency: int, polls: int, task_id: str) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    body = json.dumps({"task_id": task_id}).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def poll(_i: int) -> object:
            async with session.post(f"{base_url}/open/v1/tasks/detail", data=body, headers=headers) as resp:
                return json.loads(await resp.read())

        return await _drive(concurrency, polls, poll)


async def first_task(base_url: str) -> str:
    config = ImaClientConfig(base_url=base_url, upload_base_url=base_url, api_key=KEY)
    async with ImaClient(config, clock=SystemClock()) as client:
        return (await client.create_task(SPEC)).task_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 200])
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with simulator() as base_url:
        task_id = asyncio.run(first_task(base_url))
        print(f"{'transport':<16} {'concurrency':>11} {'CPU µs/poll':>12} {'polls/s':>9}")
        for concurrency in args.concurrency:
            for name, (kind, make) in transports(concurrency).items():
                us, rate = asyncio.run(via_client(base_url, kind, make, concurrency, args.polls))
                print(f"{name:<16} {concurrency:>11} {us:>12.0f} {rate:>9.0f}", flush=True)
            us, rate = asyncio.run(via_raw_aiohttp(base_url, concurrency, args.polls, task_id))
            print(f"{'raw aiohttp':<16} {concurrency:>11} {us:>12.0f} {rate:>9.0f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
