"""The simulator on a real loopback socket: ``run_in_background`` and the ``imabot sim`` command."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx
import pytest

from core.clock import FakeClock
from core.net import is_loopback_host as is_loopback
from core.types import TaskType
from sim.catalog import Catalog
from sim.config import SimConfig
from sim.faults import FaultSpec
from sim.payloads import build_create_body, find_leaf
from sim.server import RemoteHostRefusedError, run_in_background

AUTH = {"Authorization": "Bearer ima_server"}


async def test_background_server_serves_the_whole_flow_over_tcp() -> None:
    clock = FakeClock(auto=False)
    config = SimConfig(faults=(FaultSpec.parse("detail:reset:once"),))
    async with run_in_background(config, clock=clock) as base_url, \
            httpx.AsyncClient(base_url=base_url) as client:
        assert base_url.startswith("http://127.0.0.1:")
        listing = await client.get("/open/v1/product/list", headers=AUTH,
                                   params={"app": "ima", "platform": "web", "category": "text_to_speech"})
        assert listing.json()["code"] == 0
        body = build_create_body(find_leaf(Catalog.load(), TaskType.TEXT_TO_SPEECH, "seed-tts-2.0"))
        task_id = (await client.post("/open/v1/tasks/create", json=body, headers=AUTH)).json()["data"]["id"]
        with pytest.raises(httpx.TransportError):
            await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)
        pending = (await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)).json()
        assert pending["data"]["medias"][0]["resource_status"] is None
        clock.advance(10)  # seed-tts-2.0 has no EET tag: the speech default, 10 s
        data = (await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)).json()
        media = data["data"]["medias"][0]
        assert media["resource_status"] == 1
        assert media["url"].startswith(base_url)
        audio = await client.get(media["url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"


async def test_background_server_refuses_remote_hosts() -> None:
    with pytest.raises(RemoteHostRefusedError):
        async with run_in_background(SimConfig(), host="0.0.0.0"):
            pass
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("192.168.1.2")


async def _run_cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_cli_prints_url_serves_and_stops_on_sigint() -> None:
    process = await _run_cli("--port", "0", "--speed", "50", "--fault", "create:code=500:once")
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        prefix = "IMA simulator listening on http://127.0.0.1:"
        assert line.startswith(prefix) and line.removeprefix(prefix).isdigit()
        base_url = line.removeprefix("IMA simulator listening on ")
        async with httpx.AsyncClient(base_url=base_url) as client:
            body = build_create_body(find_leaf(Catalog.load(), TaskType.TEXT_TO_IMAGE, "midjourney"))
            first = await client.post("/open/v1/tasks/create", json=body, headers=AUTH)
            second = await client.post("/open/v1/tasks/create", json=body, headers=AUTH)
        assert (first.json()["code"], second.json()["code"]) == (500, 0)
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0


async def test_cli_stops_cleanly_on_sigterm() -> None:
    process = await _run_cli("--port", "0")
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        assert "listening" in line
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--host", "0.0.0.0"), "non-loopback"),
    (("--fault", "create:nonsense=1"), "unknown fault key"),
])
async def test_cli_refuses_bad_setup(args: tuple[str, ...], message: str) -> None:
    process = await _run_cli("--port", "0", *args)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2 and message in stderr.decode()


async def test_shutdown_does_not_wait_for_a_request_stuck_in_a_delay_fault() -> None:
    clock = FakeClock(auto=False)  # never advanced: the delayed handler would wait forever
    config = SimConfig(faults=(FaultSpec.parse("list:delay=3600"),))
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient() as client:
        async with run_in_background(config, clock=clock) as base_url:
            pending = asyncio.create_task(client.get(f"{base_url}/open/v1/product/list", headers=AUTH))
            await asyncio.sleep(0)
            started = loop.time()
        assert loop.time() - started < 10
        try:
            reply = await pending
        except httpx.TransportError:
            return
        assert reply.status_code >= 500  # the cut-off request is answered with a server error
