"""The conversation flows in the console chat (``imabot demo``): the real ConsoleChat and ConsoleSink over
the ConversationService, the pipeline and the in-process IMA simulator."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from adapters.console.chat import ConsoleChat
from adapters.console.sink import ConsoleSink
from adapters.conversation_stores import SqlThreadStore
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.clock import FakeClock
from core.conversation.service import ConversationService
from core.jobs import Job, JobState
from core.messages import Messages
from core.types import Language, Platform
from tests.support.conversation import running_conversation, still_time
from tests.support.ima import SimHarness
from tests.test_conversation_e2e import BAD_INPUT, NON_ORDERS, non_generation_corpus, read_as_orders

WAIT = "<wait>"  # a pseudo-line: let every running job end before typing on


async def typed(bot: ConversationService, lines: Sequence[str]) -> AsyncIterator[str]:
    for line in lines:
        if line == WAIT:
            await bot.pipeline.wait_idle()
            continue
        yield line + "\n"


async def chat(sim: SimHarness, db: Database, clock: FakeClock, tmp: Path, lines: Sequence[str]) -> str:
    out = io.StringIO()
    messages = Messages.from_package()
    sinks = {Platform.CONSOLE: ConsoleSink(out, messages, tty=False)}
    async with running_conversation(sim, db, clock, sinks, tmp) as bot:
        console = ConsoleChat(bot, messages, out, language=Language.ZH)
        await console.run(typed(bot, [*lines, WAIT]))
    return out.getvalue()


async def jobs(db: Database) -> list[Job]:
    entries = await SqlThreadStore(db).recent_for_user(Platform.CONSOLE, "you", 100)
    found = [await SqliteJobStore(db).get(e.job_id) for e in reversed(entries)]
    return [j for j in found if j is not None]


async def test_console_messages_that_are_not_orders_and_bad_input_create_no_task(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    lines = [t.replace("\n", " ") for t in (*NON_ORDERS, *BAD_INPUT[:-2]) if t.strip() and "\x00" not in t]
    shown = await chat(sim, db, clock, tmp_path, lines)
    assert await sim.tasks() == []
    assert shown.count("没有扣积分") >= 3  # unclear and empty follow-ups say nothing was charged
    assert "I can create videos" in shown and "我可以帮你生成视频" in shown  # each in its own language


async def test_console_reply_to_the_last_result_and_continue(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    shown = await chat(sim, db, clock, tmp_path, [
        "画一张图：窗台上的橘猫", WAIT, "/reply 让它动起来", WAIT, "继续", WAIT])
    picture, clip, more = await jobs(db)
    assert clip.request.task_type.value == "image_to_video"
    assert [a.ref for a in clip.request.attachments] == [picture.result[0].url]
    assert more.request.task_type.value == "image_to_video" and more.parent_job_id == clip.job_id
    assert more.request.attachments[0].ref != clip.result[0].cover_url
    assert "以你之前生成的「窗台上的橘猫」为输入" in shown and "最后一帧接着拍" in shown
    assert [j.state for j in (picture, clip, more)] == [JobState.DONE] * 3


async def test_console_retry_question_by_words_then_by_command(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    await sim.set_faults(["task:rs=2:times=2"])
    lines = ["生成一段视频：海边的日落", WAIT, "好的", WAIT, "/retry", WAIT]
    shown = await chat(sim, db, clock, tmp_path, lines)
    failed, retried, third = await jobs(db)
    assert "需要我帮你重试吗" in shown
    assert retried.parent_job_id == failed.job_id and third.parent_job_id == retried.job_id
    assert retried.model_id != failed.model_id and third.model_id != retried.model_id
    assert third.state is JobState.DONE and len(await sim.tasks()) == 3


async def test_console_cancel_with_one_and_with_several_jobs(db: Database, tmp_path: Path) -> None:
    async with still_time() as (clock, sim):
        shown = await chat(sim, db, clock, tmp_path, [
            "生成一段视频：森林里的小鹿在喝水", "取消", "取消",
            "生成一段视频：一只猫在窗台上睡觉", "生成一段视频：一只狗在草地上奔跑",
            "生成一段视频：一只鸟在天空飞翔",
            "/cancel", "2", "全部取消"])
    states = [j.state for j in await jobs(db)]
    assert states == [JobState.CANCELLED] * 4
    assert "没有正在进行的任务" in shown  # the second cancel: true, not "already finished"
    assert "你有 3 个任务在进行" in shown and "2. 「一只狗在草地上奔跑」" in shown
    cancelled = "🛑 已按你的要求取消\n「{}」（"  # each job's own message: which job, what was charged
    pair = ("一只狗在草地上奔跑", "一只猫在窗台上睡觉")
    dog, cat = (shown.index(cancelled.format(words)) for words in pair)
    assert dog < cat
    assert shown.count("已扣除") + shown.count("没有扣除积分") == 4  # one statement per cancelled job
    assert "积分已经扣除" not in shown and "没有扣积分" not in shown  # the conversation does not repeat it


async def test_console_the_whole_non_generation_corpus_creates_no_task(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    corpus = [t.replace("\n", " ") for t in non_generation_corpus() if t.strip()]
    shown = await chat(sim, db, clock, tmp_path, corpus)
    assert read_as_orders(corpus) == []
    assert await sim.tasks() == []  # not one of them created (or charged) a task
    assert len(shown.splitlines()) > len(corpus)
