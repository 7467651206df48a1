"""Through the console chat: attach an image, a short mp4 and a short wav, ask for a Seedance video,
and the simulator receives a multimodal create with real probed values."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from adapters.console.chat import ConsoleChat
from adapters.console.sink import ConsoleSink
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.messages import Messages
from core.types import Language, Platform
from tests import media_factory as mf
from tests.support.ima import SimHarness
from tests.support.service import running_service

M = Messages.from_package()


async def lines(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item + "\n"


async def chat(sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path, inputs: list[str],
               language: Language = Language.EN) -> str:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, media_dir=tmp_path / "w") as service:
        await ConsoleChat(service, M, out, language=language).run(lines([*inputs, "/quit"]))
        await service.wait_idle()
    return out.getvalue()


async def test_console_multimodal_seedance_request(sim: SimHarness, db: Database, clock: FakeClock,
                                                   tmp_path: Path) -> None:
    picture = mf.image(tmp_path / "product.png", 1024, 768)
    clip = mf.video(tmp_path / "clip.mp4", seconds=3, fps=30, width=1280, height=720)
    voice = mf.wav(tmp_path / "voice.wav", seconds=4)
    text = await chat(sim, db, clock, tmp_path, [
        f"/image {picture}", f"/video {clip}", f"/audio {voice}",
        "make a video of the product with seedance 2.0 fast"])
    (task,) = await sim.tasks()
    payload = task["payload"]
    assert task["task_type"] == "reference_image_to_video", text
    assert payload["parameters"][0]["model_id"] == "ima-pro-fast"
    (image,), (video,), (audio,) = payload["src_image"], payload["src_video"], payload["src_audio"]
    assert (image["width"], image["height"]) == (1024, 768)
    assert (video["duration"], video["width"], video["height"]) == (3, 1280, 720) and video["cover"]
    assert audio["duration"] == 4
    assert (await sim.calls())["assets/verify"] == 3


async def test_console_refuses_a_forty_second_clip_before_upload(sim: SimHarness, db: Database,
                                                                clock: FakeClock, tmp_path: Path) -> None:
    clip = mf.video(tmp_path / "forty.mp4", seconds=40)
    text = await chat(sim, db, clock, tmp_path,
                      [f"/video {clip}", "make a video like this with seedance 2.0"])
    assert await sim.tasks() == []
    calls = await sim.calls()
    assert calls.get("upload", 0) == 0 and calls.get("assets/verify", 0) == 0
    assert "forty.mp4" in text and "40.0 s" in text, text
