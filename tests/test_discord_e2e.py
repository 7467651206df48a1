# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Whole flows: the real discord.py client against the fake Discord, the real GenerationService, the
SQLite job store and the in-process IMA simulator, on virtual time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from adapters.discord.adapter import DiscordAdapter
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits
from core.pipeline.service import GenerationService
from core.platform import AttachmentFetcher, EventSink
from core.types import Attachment, Language, Platform, TaskType
from tests import media_factory as mf
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord, RecordedRequest
from tests.discord_fake.transport_download import TransportDownloader
from tests.support.ima import SimHarness
from tests.support.service import running_service


class LateFetcher:
    """The Discord adapter's fetcher, known only once the adapter exists (it needs the service)."""

    def __init__(self) -> None:
        self.target: AttachmentFetcher | None = None

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        assert self.target is not None
        return await self.target.fetch(attachment, dest_dir, max_bytes)


async def no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


@asynccontextmanager
async def bot(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock, work: Path | None = None
) -> AsyncIterator[tuple[GenerationService, DiscordAdapter]]:
    sinks: dict[Platform, EventSink] = {}
    fetcher = LateFetcher()
    downloader = TransportDownloader(sim.transport)
    async with AsyncExitStack() as stack:
        preparer = None
        if work is not None:
            uploader = await stack.enter_async_context(sim.client())
            remote = SafeRemoteFetcher(
                transport=httpx.MockTransport(lambda r: httpx.Response(404)), resolver=no_dns
            )
            preparer = AttachmentPreparer(
                uploader, PyAvProbe(), remote, MediaLimits.load_default(), temp_dir=work
            )
        service = await stack.enter_async_context(
            running_service(
                sim,
                db,
                clock,
                sinks,
                default_language=Language.EN,
                preparer=preparer,
                fetchers={Platform.DISCORD: fetcher},
            )
        )
        adapter = await stack.enter_async_context(
            running_adapter(fake, service, clock, downloader=downloader)
        )
        sinks[Platform.DISCORD] = adapter.sink
        fetcher.target = adapter.fetcher
        yield service, adapter
    await downloader.aclose()


def service_job_id(fake: FakeDiscord) -> str:
    ids = [c for r in fake.requests for c in r.custom_ids]
    return ids[0].rsplit(":", 1)[1] if ids else ""


def channel_posts(fake: FakeDiscord) -> list[RecordedRequest]:
    return fake.find("POST", f"/channels/{fake.channel.id}/messages")


async def test_slash_video_runs_to_a_result_with_the_mp4_attached(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock) as (service, adapter):
        await fake.slash("video", {"prompt": "a cat surfing at sunset", "duration": 5})
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 2, within=30)
        await service.wait_idle()
        await adapter.sink.flush(service_job_id(fake))
    callback = fake.find("POST", "/callback")[0]
    assert callback.body["type"] == 5
    status_edits = [r for r in fake.find("PATCH", "/messages/@original")]
    assert status_edits and status_edits[0].seq > callback.seq
    result, link = channel_posts(fake)
    assert result.content is not None and result.content.startswith(f"<@{fake.alice.id}>")
    (video,) = result.files  # media first, playing inline
    assert video.filename.endswith(".mp4") and video.size > 1000
    assert "http://ima.sim" not in result.content  # attached: no second preview
    assert "imabot:retry:" in " ".join(result.custom_ids)
    assert link.content is not None and "<http://ima.sim/_sim/media/" in link.content  # then a copyable link
    assert f"<@{fake.alice.id}>" not in link.content  # one ping per result
    assert status_edits[-1].custom_ids == []  # Cancel is gone once the job finished
    assert len(await sim.tasks()) == 1
    assert len(created_messages(fake)) == 3  # the deferred original (status), the video, the link


async def test_interaction_is_acknowledged_fast_even_when_ima_is_slow(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    await sim.set_faults(["list:delay=20"])
    async with bot(fake, sim, db, clock) as (service, _):
        started = time.monotonic()
        await fake.slash("video", {"prompt": "a slow day"})
        (callback,) = await fake.wait_for_request("POST", "/callback")
        elapsed = time.monotonic() - started
        await service.wait_idle()
    assert callback.body["type"] == 5
    assert elapsed < 3.0


async def test_mention_in_a_channel_runs_end_to_end(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock) as (service, _):
        sent = await fake.message("generate an image of a red fox in the snow")
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
    status, media, link = channel_posts(fake)
    assert str(status.body["message_reference"]["message_id"]) == sent["id"]  # status replies to the user
    assert media.content is not None and media.content.startswith(f"<@{fake.alice.id}>")
    assert [f.filename.endswith(".png") for f in media.files] == [True]  # the image, inline
    assert link.content is not None and "<http://ima.sim/" in link.content


async def test_oversize_result_is_delivered_as_a_link(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    await sim.set_faults(["task:result_size_mb=12"])
    async with bot(fake, sim, db, clock) as (service, _):
        await fake.slash("video", {"prompt": "a long panorama of mountains"})
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 2, within=30)
        await service.wait_idle()
    result, _link = channel_posts(fake)
    assert result.files == []
    assert result.content is not None
    assert "\nhttp://ima.sim/_sim/media/big.mp4" in result.content  # bare: Discord unfurls a player


async def test_retry_button_after_a_restart_starts_a_new_job(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock) as (service, _):
        await fake.slash("image", {"prompt": "a lighthouse in a storm"})
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 1, within=30)
        await service.wait_idle()
    retry_id = next(c for c in channel_posts(fake)[0].custom_ids if c.startswith("imabot:retry:"))
    async with bot(fake, sim, db, clock) as (service, _):  # a new process on the same database
        bob_click = await fake.click(retry_id, user=fake.bob)  # not the requester
        alice_click = await fake.click(retry_id)
        # the new job: its own status message, then media and link
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 5, within=30)
        await fake.wait_for(lambda _: bool(answer(fake, bob_click) and answer(fake, alice_click)), within=30)
        await service.wait_idle()
    assert answer(fake, bob_click) != answer(fake, alice_click)  # a refusal for bob, a confirmation for alice
    clicks = [
        r.body
        for r in fake.find("POST", "/callback")
        if bob_click["id"] in r.path or alice_click["id"] in r.path
    ]
    assert [c["type"] for c in clicks] == [5, 5] and all(c["data"]["flags"] & 64 for c in clicks)  # private
    assert len(await sim.tasks()) == 2


def answer(fake: FakeDiscord, click: dict[str, Any]) -> str | None:
    edits = [r.content for r in fake.find("PATCH", f"{click['token']}/messages/@original")]
    return edits[-1] if edits else None


async def test_prefs_set_saves_a_default_without_generating_anything(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock) as (service, _):
        leaves = await service.models_for(TaskType.TEXT_TO_MUSIC)
        model_id = leaves[0].model_id
        await fake.slash("prefs", {"kind": "music", "model": model_id}, subcommand="set")
        (saved,) = await fake.wait_for_request("PATCH", "/messages/@original")
        await fake.slash("prefs", {}, subcommand="show")
        shown = await fake.wait_for_request("PATCH", "/messages/@original", count=2)
        await service.wait_idle()
    assert saved.content is not None and "Suno" in saved.content
    assert shown[1].content is not None and "Suno" in shown[1].content
    assert await sim.tasks() == []  # a preference, not a paid generation
    assert fake.find("POST", f"/channels/{fake.channel.id}/messages") == []


async def test_slash_video_with_a_first_frame_uploads_it_and_delivers_the_video(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    png = mf.image(tmp_path / "frame.png", 1024, 576)
    frame = fake.attachment("frame.png", data=png.read_bytes(), content_type="image/png")
    async with bot(fake, sim, db, clock, work=tmp_path / "work") as (service, _):
        await fake.slash("video", {"prompt": "the boat sails away"}, attachments={"first_frame": frame})
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 2, within=30)
        await service.wait_idle()
    (task,) = await sim.tasks()
    assert task["task_type"] == "image_to_video"
    assert any(name.endswith("frame.png") for name in fake.downloads)  # fetched from Discord's CDN
    media, _link = channel_posts(fake)
    assert [f.filename.endswith(".mp4") for f in media.files] == [True]
    assert fake.find("POST", "/callback")[0].body["type"] == 5


def created_messages(fake: FakeDiscord) -> list[RecordedRequest]:
    """Every request that makes a new message: a deferred interaction response (its original message),
    channel and DM posts, and interaction followups."""
    deferred = [r for r in fake.find("POST", "/callback") if r.body.get("type") in (4, 5)]
    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    followups = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/api/v10/webhooks/")]
    return deferred + posts + followups


async def test_one_generation_is_three_new_messages_with_the_preference_notice_in_the_status(
    fake: FakeDiscord, sim: SimHarness, db: Database, clock: FakeClock
) -> None:
    async with bot(fake, sim, db, clock) as (service, adapter):
        await fake.message("always use Hailuo, make a video of a cat playing the piano")
        await fake.wait_for(lambda _: len(channel_posts(fake)) >= 3, within=30)
        await service.wait_idle()
        await adapter.sink.flush(service_job_id(fake))
    assert len(await sim.tasks()) == 1
    assert len(created_messages(fake)) == 3  # the status message, the video, the copyable link
    edits = [r.content or "" for r in fake.requests if r.method == "PATCH" and "/messages/" in r.path]
    assert any("Hailuo 2.3 for text-to-video from now on" in text for text in edits), edits  # in the status
    assert "✅ Done in" in edits[-1]  # the status message ends on the summary, not on a stale percentage
