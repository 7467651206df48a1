"""End to end: real media → AttachmentPreparer → real ImaClient → in-process simulator."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.ima.client import ImaClient
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from core.clock import FakeClock
from core.errors import ErrorKind
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits, VerificationError
from core.ports import TaskSpec
from core.types import Attachment, AttachmentKind, TaskType
from tests import media_factory as mf
from tests.support.ima import SIM_BASE_URL, SimHarness

REF = TaskType.REFERENCE_IMAGE_TO_VIDEO


class ConsoleFetcher:
    """Like the console: the attachment ref is a local path."""

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        return Path(await asyncio.to_thread(shutil.copy, attachment.ref, dest_dir))


async def no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


def preparer(ima: ImaClient, tmp: Path) -> AttachmentPreparer:
    remote = SafeRemoteFetcher(transport=httpx.MockTransport(lambda r: httpx.Response(404)), resolver=no_dns)
    return AttachmentPreparer(ima, PyAvProbe(), remote, MediaLimits.load_default(), temp_dir=tmp / "work")


def bundle(tmp: Path) -> list[Attachment]:
    files = [(mf.image(tmp / "product.png", 1024, 768), AttachmentKind.IMAGE),
             (mf.video(tmp / "clip.mp4", seconds=3, fps=30, width=1280, height=720), AttachmentKind.VIDEO),
             (mf.wav(tmp / "voice.wav", seconds=4), AttachmentKind.AUDIO)]
    return [Attachment(kind=kind, name=path.name, ref=str(path)) for path, kind in files]


async def test_multimodal_reference_request_reaches_the_simulator(sim: SimHarness, ima: ImaClient,
                                                                  tmp_path: Path) -> None:
    stages: list[str] = []

    async def on_stage(stage: str) -> None:
        stages.append(stage)

    attachments = bundle(tmp_path)
    prepared = await preparer(ima, tmp_path).prepare(REF, "ima-pro", attachments, ConsoleFetcher(), on_stage)
    assert stages == ["uploading", "verifying"]
    await ima.create_task(TaskSpec(task_type=REF, model_id="ima-pro", prompt="the product spins",
                                   input_urls=prepared.input_urls, references=prepared.references))
    (task,) = await sim.tasks()
    payload: dict[str, Any] = task["payload"]
    (image,), (video,), (audio,) = payload["src_image"], payload["src_video"], payload["src_audio"]
    assert (image["width"], image["height"]) == (1024, 768)
    assert (video["duration"], video["width"], video["height"]) == (3, 1280, 720)
    assert video["cover"].endswith(".jpg") and video["cover"] not in prepared.input_urls
    assert (audio["duration"],) == (4,)
    assert payload["parameters"][0]["parameters"]["input_images"] == list(prepared.input_urls)
    assert [image["url"], video["url"], audio["url"]] == list(prepared.input_urls)
    async with httpx.AsyncClient(transport=sim.transport, base_url=SIM_BASE_URL) as http:
        cover = await http.get(video["cover"])
        uploaded_clip = await http.get(video["url"])
    assert cover.status_code == 200 and cover.content[:3] == b"\xff\xd8\xff"  # a JPEG
    assert uploaded_clip.content == (tmp_path / "clip.mp4").read_bytes()
    calls = await sim.calls()
    assert calls["assets/verify"] == 3 and calls["upload"] == 4  # 3 assets + 1 cover


async def test_failed_compliance_stops_before_create(sim: SimHarness, ima: ImaClient, tmp_path: Path) -> None:
    await sim.set_faults(["verify:status=failed:error_msg=real person detected"])

    async def on_stage(stage: str) -> None:
        return None

    with pytest.raises(VerificationError) as caught:
        await preparer(ima, tmp_path).prepare(REF, "ima-pro-fast", bundle(tmp_path), ConsoleFetcher(),
                                              on_stage)
    assert caught.value.kind is ErrorKind.VERIFY_FAILED
    assert {v.file for v in caught.value.violations} == {"product.png", "clip.mp4", "voice.wav"}
    assert await sim.tasks() == []


async def test_slow_verification_runs_in_parallel(sim: SimHarness, ima: ImaClient, clock: FakeClock,
                                                  tmp_path: Path) -> None:
    await sim.set_faults(["verify:delay=30"])
    stages: list[tuple[str, float]] = []

    async def on_stage(stage: str) -> None:
        stages.append((stage, clock.now()))

    started = clock.now()
    await preparer(ima, tmp_path).prepare(REF, "ima-pro", bundle(tmp_path), ConsoleFetcher(), on_stage)
    elapsed = clock.now() - started
    assert 30 <= elapsed < 60  # three 30 s checks side by side (bound 3), not 90 s one after another
    assert [s for s, _ in stages] == ["uploading", "verifying"]
    assert stages[1][1] - started < 30  # the user sees "verifying" before the wait, not after
