"""The client over a real loopback socket (uvicorn + the simulator), with each transport setting: headers
with underscores, the streamed PUT and JSON bodies survive a real HTTP stack. Only 127.0.0.1 is contacted."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.transport import TransportKind
from core.clock import FakeClock
from core.ports import TaskProgress, TaskSpec
from core.types import AttachmentKind, TaskType
from sim.config import SimConfig
from sim.server import run_in_background

KEY = "ima_loopback_0123456789abcdef"


@pytest.mark.parametrize("transport", ["split", "httpx", "aiohttp"])
async def test_full_flow_over_loopback(tmp_path: Path, clock: FakeClock, transport: TransportKind) -> None:
    async with run_in_background(SimConfig(speed=10.0), clock=clock) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        config = ImaClientConfig(base_url=base_url, upload_base_url=base_url, api_key=KEY, language="zh",
                                 transport=transport)
        async with ImaClient(config, clock=clock) as client:
            image = tmp_path / "frame.png"
            content = os.urandom(300 * 1024)
            image.write_bytes(content)
            fdl = await client.upload_file(image, AttachmentKind.IMAGE)
            assert fdl.startswith(base_url)
            async with httpx.AsyncClient() as plain:
                assert (await plain.get(fdl)).content == content
            verified = await client.verify_asset(fdl, "frame")
            assert verified.passed
            created = await client.create_task(
                TaskSpec(
                    TaskType.IMAGE_TO_VIDEO,
                    "wan2.6-i2v",
                    "the sea moves",
                    input_urls=(fdl,),
                    params={"duration": 10},
                )
            )
            snap = await client.get_task(created.task_id)
            for _ in range(400):
                if snap.progress is TaskProgress.SUCCEEDED:
                    break
                await clock.sleep(5)  # virtual time
                snap = await client.get_task(created.task_id)
            assert snap.progress is TaskProgress.SUCCEEDED
            assert snap.medias[0].url.startswith(base_url)
