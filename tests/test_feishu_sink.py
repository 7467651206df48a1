"""Rendering UX events on Feishu: one patched progress card, inline video, link fallbacks, buttons."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.chat.download import SafeResultDownloader
from adapters.feishu.api import RetryPolicy
from adapters.feishu.delivery import MediaDelivery
from adapters.feishu.sink import FeishuSink
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from bot.ops.metrics import PrometheusTelemetry
from core.clock import FakeClock
from core.messages import Messages
from core.ops.telemetry import Telemetry
from core.platform import ActionKind, Slot, Step, UxEvent
from core.types import Conversation, Language, MediaResult, MediaType, Platform
from tests import media_factory
from tests.feishu_fake.fixtures import api_for, running_fake
from tests.feishu_fake.server import FakeFeishu

CONV = Conversation(platform=Platform.FEISHU, chat_id="oc_group", user_id="ou_alice", message_id="om_user_1")


@dataclass
class Rig:
    fake: FakeFeishu
    sink: FeishuSink
    clock: FakeClock


@asynccontextmanager
async def rig(tmp_path: Path, telemetry: Telemetry | None = None) -> AsyncIterator[Rig]:
    clock = FakeClock()
    async with running_fake() as fake:
        # results here are served by the fake on loopback: trusted like a configured local IMA origin
        safe = SafeRemoteFetcher(trusted_origins=frozenset({fake.base_url}))
        fake.now = clock.now
        fake.inbound_chats[CONV.message_id] = CONV.chat_id
        api = api_for(fake, clock, RetryPolicy(attempts=2))
        messages = Messages.from_package()
        delivery = MediaDelivery(api, SafeResultDownloader(safe), messages, PyAvProbe(), temp_root=tmp_path)
        sink = FeishuSink(api, delivery, messages, clock, patch_interval_s=3.0, telemetry=telemetry)
        yield Rig(fake, sink, clock)
        await sink.aclose()
        await safe.aclose()


def event(step: Step, slot: Slot, text: str, job_id: str = "job-1", **fields: object) -> UxEvent:
    return UxEvent(job_id=job_id, conversation=CONV, step=step, slot=slot, text=text,
                   language=Language.ZH, **fields)  # type: ignore[arg-type]


async def test_progress_is_one_card_patched_at_most_every_three_seconds_ending_on_the_latest(
        tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ref = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        assert ref is not None
        card = r.fake.message(ref)
        assert card.msg_type == "interactive" and card.reply_to == "om_user_1"
        assert card.content["config"]["update_multi"] is True
        for percent in range(0, 60, 5):  # a burst of 12 updates within virtual milliseconds
            assert await r.sink.emit(event(Step.PROGRESS, Slot.STATUS, f"进度 {percent}%", percent=percent,
                                           message_ref=ref, actions=(ActionKind.CANCEL,))) == ref
        await r.sink.emit(event(Step.DONE, Slot.STATUS, "全部完成", message_ref=ref))
        await r.sink.aclose()
        assert len([m for m in r.fake.messages if m.msg_type == "interactive"]) == 1
        times = [card.at] + [p.at for p in r.fake.patches]
        assert all(b - a >= 3.0 for a, b in itertools.pairwise(times)), times
        assert len(r.fake.patches) <= 2
        assert "全部完成" in r.fake.message(ref).card_text


async def test_a_burst_of_status_updates_is_counted_as_rate_limit_waits_with_their_seconds(
        tmp_path: Path) -> None:
    clock = FakeClock()
    metrics = PrometheusTelemetry(clock)
    async with rig(tmp_path, metrics) as r:
        ref = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        for percent in (10, 20, 30):
            await r.sink.emit(event(Step.PROGRESS, Slot.STATUS, f"进度 {percent}%", percent=percent,
                                    message_ref=ref))
        await r.sink.aclose()
    feishu = {"platform": "feishu"}
    waits = metrics.registry.get_sample_value("imabot_platform_rate_limit_waits_total", feishu)
    seconds = metrics.registry.get_sample_value("imabot_platform_rate_limit_wait_seconds_total", feishu)
    assert waits is not None and waits > 0
    assert seconds is not None and seconds >= 2.5  # the patch waited out most of the 3 s interval


async def test_slow_updates_are_patched_at_once(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ref = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        assert ref is not None
        for percent in (10, 20, 30):
            r.clock.advance(8)
            await r.sink.emit(event(Step.PROGRESS, Slot.STATUS, f"进度 {percent}%", percent=percent,
                                    message_ref=ref))
            assert f"进度 {percent}%" in r.fake.message(ref).card_text
        assert len(r.fake.patches) == 3


async def test_status_card_survives_a_restart_by_its_ref(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        ref = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        assert ref is not None
    async with rig(tmp_path) as r2:
        # A new process (new sink) gets the persisted ref back and patches the same card.
        r2.fake.messages.append(r.fake.message(ref))
        r2.fake._by_id[ref] = r.fake.message(ref)
        assert await r2.sink.emit(event(Step.PROGRESS, Slot.STATUS, "进度 40%", percent=40,
                                        message_ref=ref)) == ref
        assert r2.fake.patches[0].message_id == ref


async def test_video_result_is_an_inline_media_message_with_cover_then_link_text(tmp_path: Path) -> None:
    clip = media_factory.video(tmp_path / "clip.mp4", seconds=2, width=64, height=64)
    async with rig(tmp_path) as r:
        status = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        url = r.fake.media_url("clip.mp4", clip.read_bytes())
        media = MediaResult(url=url, kind=MediaType.VIDEO)
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "视频好了", media=(media,),
                                actions=(ActionKind.FASTER, ActionKind.FIRST_FRAME)))
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, f"链接：{url}"))
        await r.sink.emit(event(Step.DONE, Slot.STATUS, "完成，用时 40 秒", message_ref=status,
                                actions=(ActionKind.FASTER, ActionKind.FIRST_FRAME)))
        await r.sink.aclose()
        kinds = [m.msg_type for m in r.fake.messages]
        assert kinds == ["interactive", "media", "text"]  # status card, the video, the copyable link
        media_msg = r.fake.messages[1]
        upload = r.fake.uploads[media_msg.content["file_key"]]
        assert upload.fields["file_type"] == "mp4"
        assert abs(int(upload.fields["duration"]) - 2000) <= 100
        assert upload.data == clip.read_bytes()
        cover = r.fake.uploads[media_msg.content["image_key"]]
        assert cover.kind == "image" and cover.data[:3] == b"\xff\xd8\xff"
        assert status is not None
        final = r.fake.message(status).card_text  # the summary and the buttons: on the status card
        assert "完成，用时 40 秒" in final
        assert "imabot:faster:job-1" in final and "imabot:first_frame:job-1" in final
        assert r.fake.messages[2].content == {"text": f"链接：{url}"}
        assert all(m.reply_to == "om_user_1" for m in r.fake.messages)


async def test_video_over_30_mb_becomes_a_link_card_without_upload(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        url = r.fake.media_url("big.mp4", bytes(31 * 1024 * 1024))
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "视频好了",
                                media=(MediaResult(url=url, kind=MediaType.VIDEO, duration_s=5),)))
        assert r.fake.uploads == {}
        (card,) = r.fake.messages
        assert card.msg_type == "interactive"
        assert "30 MB" in card.card_text and url in card.card_text


async def test_failed_upload_falls_back_to_a_link(tmp_path: Path) -> None:
    clip = media_factory.video(tmp_path / "clip.mp4", seconds=1, width=64, height=64)
    async with rig(tmp_path) as r:
        r.fake.fail_next("file", 234001)
        url = r.fake.media_url("clip.mp4", clip.read_bytes())
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "视频好了",
                                media=(MediaResult(url=url, kind=MediaType.VIDEO, duration_s=1),)))
        assert [m.msg_type for m in r.fake.messages] == ["interactive"]
        assert "234001" not in r.fake.messages[0].card_text and url in r.fake.messages[0].card_text


async def test_image_and_audio_results(tmp_path: Path) -> None:
    png = media_factory.image(tmp_path / "a.png", 32, 32)
    wav = media_factory.wav(tmp_path / "a.wav", seconds=1)
    async with rig(tmp_path) as r:
        image = MediaResult(url=r.fake.media_url("a.png", png.read_bytes()), kind=MediaType.IMAGE)
        audio = MediaResult(url=r.fake.media_url("a.wav", wav.read_bytes()), kind=MediaType.MUSIC)
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "图片好了", media=(image,)))
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "音乐好了", job_id="job-2", media=(audio,)))
        kinds = [m.msg_type for m in r.fake.messages]
        assert kinds == ["image", "file"]
        assert r.fake.uploads[r.fake.messages[0].content["image_key"]].data == png.read_bytes()
        assert r.fake.uploads[r.fake.messages[1].content["file_key"]].fields["file_type"] == "stream"


async def test_several_images_of_one_task_are_one_gallery_message(tmp_path: Path) -> None:
    pngs = [media_factory.image(tmp_path / f"{n}.png", 32, 32) for n in range(3)]
    async with rig(tmp_path) as r:
        urls = [r.fake.media_url(p.name, p.read_bytes()) for p in pngs] + ["http://127.0.0.1:9/gone.png"]
        media = tuple(MediaResult(url=u, kind=MediaType.IMAGE) for u in urls)
        await r.sink.emit(event(Step.SUCCESS, Slot.RESULT, "图片好了", media=media))
        (gallery,) = r.fake.messages
        assert gallery.msg_type == "post"
        rows = gallery.content["zh_cn"]["content"]
        assert [row[0]["tag"] for row in rows] == ["img", "img", "img", "a"]  # the lost one: its link
        uploaded = [r.fake.uploads[row[0]["image_key"]].data for row in rows[:3]]
        assert uploaded == [p.read_bytes() for p in pngs]
        assert rows[3][0]["href"] == urls[3]


async def test_failure_is_a_card_with_buttons_and_replays_post_nothing_new(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        failure = event(Step.FAILURE, Slot.RESULT, "模型暂时不可用，可以换一个试试",
                        actions=(ActionKind.RETRY, ActionKind.FASTER))
        first = await r.sink.emit(failure)
        again = await r.sink.emit(failure)  # e.g. the runner re-delivers after a restart
        assert first == again
        (card,) = r.fake.messages
        assert card.content["header"]["template"] == "red"
        assert 'imabot:retry:job-1' in card.card_text


async def test_notice_is_a_text_reply_in_the_users_thread(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        threaded = Conversation(platform=Platform.FEISHU, chat_id="oc_group", user_id="ou_alice",
                                message_id="om_user_1", thread_id="omt_1")
        await r.sink.emit(UxEvent(job_id="", conversation=threaded, step=Step.NOTICE, slot=Slot.NOTICE,
                                  text="已记住你的偏好", language=Language.ZH))
        (notice,) = r.fake.messages
        assert notice.content == {"text": "已记住你的偏好"} and notice.in_thread


async def test_reply_to_a_recalled_message_goes_to_the_chat_instead(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.fake.fail_next("reply", 230011)
        ref = await r.sink.emit(event(Step.ACK, Slot.STATUS, "收到！"))
        assert ref is not None
        card = r.fake.message(ref)
        assert card.chat_id == "oc_group" and card.reply_to is None


async def test_a_busy_chat_is_paced_under_five_sends_per_second(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        notices = [UxEvent(job_id=f"job-{i}", conversation=CONV, step=Step.NOTICE, slot=Slot.NOTICE,
                           text=f"notice {i}", language=Language.ZH) for i in range(12)]
        await asyncio.gather(*(r.sink.emit(n) for n in notices))
        times = sorted(m.at for m in r.fake.messages)
        assert len(times) == 12
        for first, sixth in zip(times, times[5:], strict=False):
            assert sixth - first >= 1.0  # never 6 sends within one second
