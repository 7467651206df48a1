from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from adapters.console.chat import ConsoleChat
from adapters.console.fetcher import LocalFileFetcher
from adapters.console.sink import ConsoleSink, JsonLinesSink, event_json
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.errors import InputError
from core.media.ports import MediaTooLargeError
from core.messages import Messages
from core.platform import Slot, Step, UxEvent
from core.types import Attachment, AttachmentKind, Language, MediaResult, MediaType, Platform
from tests.support.conversation import running_conversation
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service

M = Messages.from_package()


def event(step: Step, slot: Slot, text: str, **kw: object) -> UxEvent:
    return UxEvent(job_id="j", conversation=conversation(), step=step, slot=slot, text=text,
                   language=Language.EN, **kw)  # type: ignore[arg-type]


async def test_tty_progress_rewrites_one_line_in_place() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=True)
    ref = await sink.emit(event(Step.ACK, Slot.STATUS, "OK!"))
    await sink.emit(event(Step.PROGRESS, Slot.STATUS, "head\n\n⏳ 10%\n5s elapsed", message_ref=ref))
    await sink.emit(event(Step.PROGRESS, Slot.STATUS, "head\n\n⏳ 20%\n9s elapsed", message_ref=ref))
    await sink.emit(event(Step.SUCCESS, Slot.RESULT, "✅ ready",
                          media=(MediaResult("http://x/v.mp4", MediaType.VIDEO, cover_url="http://x/c.jpg"),)))
    assert out.getvalue() == ("OK!\n\r\x1b[K⏳ 10% · 5s elapsed\r\x1b[K⏳ 20% · 9s elapsed\n✅ ready\n"
                              "🖼️ Cover: http://x/c.jpg\n")


async def test_plain_output_prints_each_status_change_once() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    await sink.emit(event(Step.PROGRESS, Slot.STATUS, "head\n\n⏳ 10%"))
    await sink.emit(event(Step.PROGRESS, Slot.STATUS, "head\n\n⏳ 10%"))
    await sink.emit(event(Step.DONE, Slot.STATUS, "head\n\n✅ Done in 30s"))
    assert out.getvalue() == "⏳ 10%\n✅ Done in 30s\n"


def test_json_event_has_the_documented_fields() -> None:
    data = event_json(event(Step.SUCCESS, Slot.RESULT, "✅", percent=100, credits=5, model_id="m",
                            media=(MediaResult("http://x/i.png", MediaType.IMAGE),)))
    assert data["step"] == "success" and data["slot"] == "result" and data["text"] == "✅"
    assert (data["percent"], data["credits"], data["model_id"]) == (100, 5, "m")
    assert data["media_url"] == "http://x/i.png"
    assert "cover_url" not in data and "error_kind" not in data


async def test_json_lines_sink_keeps_the_status_ref() -> None:
    out = io.StringIO()
    sink = JsonLinesSink(out)
    first = await sink.emit(event(Step.ACK, Slot.STATUS, "a"))
    again = await sink.emit(event(Step.PROGRESS, Slot.STATUS, "b", message_ref=first))
    assert first == again and len(out.getvalue().splitlines()) == 2


async def test_local_fetcher_copies_and_enforces_the_size_cap(tmp_path: Path) -> None:
    source = tmp_path / "cat.png"
    source.write_bytes(b"x" * 100)
    fetcher = LocalFileFetcher()
    cat = Attachment(AttachmentKind.IMAGE, "cat.png", str(source))
    copied = await fetcher.fetch(cat, tmp_path / "d", 1000)
    assert copied.read_bytes() == source.read_bytes() and copied != source
    try:
        await fetcher.fetch(cat, tmp_path / "e", 10)
    except MediaTooLargeError:
        pass
    else:
        raise AssertionError("size cap not enforced")
    try:
        await fetcher.fetch(Attachment(AttachmentKind.IMAGE, "x.png", str(tmp_path / "x.png")), tmp_path, 10)
    except InputError:
        pass
    else:
        raise AssertionError("missing file accepted")


async def lines(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item + "\n"


async def test_chat_attaches_files_and_sends_them_with_the_next_request(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    from tests import media_factory as mf

    picture = mf.image(tmp_path / "cat.png", 800, 600)
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, media_dir=tmp_path / "w") as service:
        chat = ConsoleChat(service, M, out, language=Language.ZH)
        ended_by_eof = await chat.run(lines([
            "/help", f"/image {picture}", "/image /no/such/file.png", "/frobnicate", "让这张图动起来",
            "/quit"]))
        await service.wait_idle()
    text = out.getvalue()
    assert ended_by_eof is False
    assert "📎 已附加 cat.png" in text
    assert "找不到文件：/no/such/file.png" in text
    assert "不认识的命令：/frobnicate" in text
    assert "我可以帮你生成视频" in text
    assert "再见 👋" in text
    (task,) = await sim.tasks()
    assert task["task_type"] == "image_to_video" and len(task["payload"]["src_img_url"]) == 1
    assert "✅ 视频生成成功！" in text and "🔗 视频链接（方便复制分享）：\nhttp://" in text


async def test_chat_actions_work_on_the_last_job_including_first_frame(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        chat = ConsoleChat(bot, M, out, language=Language.ZH)

        async def typed() -> AsyncIterator[str]:
            yield "/retry\n"  # nothing to act on yet
            yield "画一只可爱的橘猫\n"
            await bot.pipeline.wait_idle()
            yield "/cancel\n"  # the same as typing "取消": nothing is running
            yield "/frame\n"
            await bot.pipeline.wait_idle()

        assert await chat.run(typed()) is True
    text = out.getvalue()
    assert "还没有可以操作的任务" in text
    assert "没有正在进行的任务，没有需要取消的" in text
    assert text.count("好的！来帮你生成一段视频") == 1  # /frame: the new job's own acknowledgment, once
    image_task, video_task = await sim.tasks()
    assert (image_task["task_type"], video_task["task_type"]) == ("text_to_image", "image_to_video")
    assert "✅ 视频生成成功！" in text


class _CountingSink:
    """The console sink, counting the messages it was asked to create (a status ref counts once)."""

    def __init__(self, inner: ConsoleSink) -> None:
        self.inner = inner
        self.refs: dict[str, list[str]] = {}

    async def emit(self, event: UxEvent) -> str | None:
        ref = await self.inner.emit(event)
        if ref and event.job_id and ref not in self.refs.setdefault(event.job_id, []):
            self.refs[event.job_id].append(ref)
        return ref


async def test_one_generation_is_three_messages_with_the_preference_notice_in_the_status(
        sim: SimHarness, db: Database, clock: FakeClock) -> None:
    out = io.StringIO()
    sink = _CountingSink(ConsoleSink(out, M, tty=False))
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        video = await service.handle_message(conversation(message_id="e1"), "以后都用海螺，猫在弹钢琴的视频")
        image = await service.handle_message(conversation(message_id="e2"), "画一只橘猫")
        await service.wait_idle()
    assert video is not None and image is not None
    assert len(sink.refs[video]) == 3  # the status (with the preference notice), the result, the link
    assert len(sink.refs[image]) == 3
    before_result = out.getvalue().split("✅ 视频生成成功")[0]
    assert "已记住" in before_result  # the notice came with the status, before the result


async def test_a_status_that_grows_prints_only_what_it_added() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, M, tty=False)
    ref = await sink.emit(event(Step.PREGEN, Slot.STATUS, "🎬 Model: Veo\n• 105 pts"))
    await sink.emit(event(Step.PREGEN, Slot.STATUS, "🎬 Model: Veo\n• 105 pts\n\n❓ Please confirm",
                          message_ref=ref))
    assert out.getvalue() == "🎬 Model: Veo\n• 105 pts\n❓ Please confirm\n"  # the block once
