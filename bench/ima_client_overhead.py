"""Client overhead per call: mean microseconds per quote / create / detail.

Two transports: the in-process simulator (client + simulator handler) and a canned
``httpx.MockTransport`` (client alone: payload building, JSON, envelope and error handling).
Reported, not asserted. Run: ``.venv/bin/python bench/ima_client_overhead.py [--n 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from adapters.ima.client import ImaClient, ImaClientConfig
from core.clock import FakeClock
from core.ports import TaskSpec
from core.types import TaskType
from sim.app import create_app
from sim.config import SimConfig

KEY = "ima_bench_0123456789abcdef"
SPEC = TaskSpec(
    TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "a red fox running through snow", params={"duration": 10}
)


def canned_transport(product_list: Any) -> httpx.MockTransport:
    detail = {
        "code": 0,
        "message": "success",
        "data": {
            "id": "t-1",
            "task_type": "text_to_video",
            "medias": [
                {
                    "resource_status": 1,
                    "status": "success",
                    "url": "https://cdn.test/v.mp4",
                    "cover": "https://cdn.test/c.jpg",
                    "duration_str": "5s",
                    "format": "mp4",
                }
            ],
        },
    }
    created = {"code": 0, "message": "success", "data": {"id": "t-1", "biz_id": "b-1"}}
    listed = json.dumps({"code": 0, "message": "success", "data": product_list}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/product/list"):
            return httpx.Response(200, content=listed, headers={"content-type": "application/json"})
        return httpx.Response(200, json=created if request.url.path.endswith("/create") else detail)

    return httpx.MockTransport(handler)


async def timed(label: str, n: int, call: Callable[[], Awaitable[Any]]) -> float:
    for _ in range(min(20, n)):
        await call()
    start = time.perf_counter()
    for _ in range(n):
        await call()
    mean_us = (time.perf_counter() - start) / n * 1e6
    print(f"  {label:<8} {mean_us:10.1f} µs")
    return mean_us


async def bench(name: str, transport: httpx.AsyncBaseTransport, clock: FakeClock, n: int) -> None:
    config = ImaClientConfig(
        base_url="http://ima.sim", upload_base_url="http://upload.sim", api_key=KEY, product_cache_ttl_s=1e12
    )
    async with ImaClient(config, transport=transport, clock=clock) as client:
        created = await client.create_task(SPEC)
        print(f"{name} (n={n})")
        await timed("quote", n, lambda: client.quote(SPEC))
        await timed("create", n, lambda: client.create_task(SPEC))
        await timed("detail", n, lambda: client.get_task(created.task_id))


async def main(n: int) -> None:
    clock = FakeClock()
    app = create_app(
        SimConfig(
            public_base_url="http://ima.sim", upload_base_url="http://upload.sim", default_balance=10**12
        ),
        clock=clock,
    )
    sim_transport = httpx.ASGITransport(app=app)
    await bench("in-process simulator", sim_transport, clock, n)
    async with httpx.AsyncClient(transport=sim_transport, base_url="http://ima.sim") as raw:
        product_list = (
            await raw.get(
                "/open/v1/product/list",
                params={"app": "ima", "platform": "web", "category": "text_to_video"},
                headers={"Authorization": f"Bearer {KEY}"},
            )
        ).json()["data"]
    await bench("canned MockTransport (client only)", canned_transport(product_list), clock, n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    asyncio.run(main(parser.parse_args().n))
