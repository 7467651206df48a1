
"""The conversation flows end to end on each platform: the real discord.py client against the fake
Discord and lark-oapi against the fake Feishu, the ConversationService over the real pipeline with
SQLite stores, and the in-process IMA simulator (its task list is the record of what was charged)."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.conversation_stores import SqlThreadStore
from adapters.dedupe_store import SqlDedupeStore
from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.media.probe import PyAvProbe
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from core.catalog.models import ModelCatalog
from core.clock import FakeClock
from core.intent import IntentKind, understand
from core.jobs import Job, JobState
from core.platform import ActionKind, EventSink
from core.types import Language, Platform
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord
from tests.discord_fake.transport_download import SIM_ORIGINS, TransportDownloader
from tests.feishu_fake.fixtures import running_fake
from tests.support.chat_drivers import Counting, DiscordDriver, Driver, FeishuDriver
from tests.support.conversation import running_conversation, still_time, until_created
from tests.support.ima import SimHarness

CORPUS = Path(__file__).parent / "intent_cases" / "classify"
NON_ORDERS = ["你能做什么", "帮我查一下余额", "有哪些模型", "进度怎么样了", "取消", "help", "cancel",
              "how's it going?", "what can you do?", "which model is best for portraits?", "好的", "谢谢!",
              "thanks", "👍", "🎉🎉🎉", "视频", "test", "再来一个", "again", "continue",
              "现在默认用的哪个模型", "把偏好删了", "可灵和海螺哪个好", "stop", "hello",
              "<@1400000000000000002> 你好", "   "]


@asynccontextmanager
async def on_discord(sim: SimHarness, db: Database, clock: FakeClock, tmp: Path) -> AsyncIterator[Driver]:
    sinks: dict[Platform, EventSink] = {}
    async with FakeDiscord() as fake, running_conversation(sim, db, clock, sinks, tmp,
                                                            default_language=Language.EN) as bot:
        counting = Counting(bot)
        downloader = TransportDownloader(sim.transport)
        async with running_adapter(fake, counting, clock, downloader=downloader) as adapter:  # type: ignore[arg-type]
            sinks[Platform.DISCORD] = adapter.sink
            yield DiscordDriver(fake, counting)
            await bot.pipeline.wait_idle()
        await downloader.aclose()


@asynccontextmanager
async def on_feishu(sim: SimHarness, db: Database, clock: FakeClock, tmp: Path) -> AsyncIterator[Driver]:
    sinks: dict[Platform, EventSink] = {}
    async with running_fake() as fake, running_conversation(sim, db, clock, sinks, tmp) as bot:
        fake.now = clock.now
        counting = Counting(bot)
        config = FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url, temp_dir=tmp,
                              media_origins=SIM_ORIGINS)
        adapter = FeishuAdapter(config, counting, SqlDedupeStore(db, clock), clock,  # type: ignore[arg-type]
                                probe=PyAvProbe(), media_transport=sim.transport)
        sinks[Platform.FEISHU] = adapter.sink
        async with adapter:
            await fake.wait_connected()
            yield FeishuDriver(fake, counting, adapter.router.drain)
            await adapter.router.drain()
            await bot.pipeline.wait_idle()


PLATFORMS = {"discord": on_discord, "feishu": on_feishu}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def jobs_of(d: Driver, db: Database, user: str = "alice") -> list[Job]:
    """This user's jobs, oldest first, once the bot is idle."""
    await d.bot.pipeline.wait_idle()
    entries = await SqlThreadStore(db).recent_for_user(d.platform, d.user_id(user), 100)
    found = [await SqliteJobStore(db).get(e.job_id) for e in reversed(entries)]
    return [j for j in found if j is not None]


async def test_messages_that_are_not_orders_never_create_a_task(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        for text in NON_ORDERS:
            before = len(d.replies())
            await d.say(text)
            assert len(d.replies()) > before, f"no answer to {text!r}"
        await d.bot.pipeline.wait_idle()
    assert await sim.tasks() == []
    assert "积分" in "\n".join(d.replies()) and "pts" in "\n".join(d.replies())  # each language answered


async def test_a_reply_to_a_result_uses_it_and_continue_starts_from_its_last_frame(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        await d.say("画一张图：窗台上的橘猫")
        (picture,) = await jobs_of(d, db)
        assert picture.state is JobState.DONE
        await d.say("让它动起来", reply_to=picture)  # a platform reply to the image result
        clip = (await jobs_of(d, db))[-1]
        await d.say("继续", reply_to=clip)  # a reply to the video result: continue the clip
        more = (await jobs_of(d, db))[-1]
        await d.say("接着拍")  # no reply: the last video of this chat
        last = (await jobs_of(d, db))[-1]
    assert clip.request.task_type.value == "image_to_video" and clip.state is JobState.DONE
    assert [a.ref for a in clip.request.attachments] == [picture.result[0].url]
    for follow in (more, last):
        assert follow.request.task_type.value == "image_to_video" and follow.state is JobState.DONE
        (frame,) = follow.request.attachments
        assert frame.role == "first_frame" and frame.ref not in (clip.result[0].cover_url, clip.result[0].url)
    assert more.parent_job_id == clip.job_id and last.parent_job_id == more.job_id
    assert "以你之前生成的「窗台上的橘猫」为输入" in status_texts(d)  # the pre-generation message says so
    assert len(await sim.tasks()) == 4


async def test_a_reply_to_any_message_of_a_result_names_that_result(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    """Status card (with the buttons), media and link: whichever a user replies to, it is that job."""
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        await d.say("画一张图：窗台上的橘猫")
        (picture,) = await jobs_of(d, db)
        assert set(picture.message_refs) == {"status", "result:0", "result:1"}  # the 3 messages it posted
        followers = []
        for part in ("status", "result:0", "result:1"):
            await d.say("让它动起来", reply_to=picture, part=part)
            followers.append((await jobs_of(d, db))[-1])
    for follower in followers:
        assert follower.parent_job_id == picture.job_id and follower.state is JobState.DONE
        assert follower.request.task_type.value == "image_to_video"
        assert [a.ref for a in follower.request.attachments] == [picture.result[0].url]
    assert len(await sim.tasks()) == 4


def status_texts(d: Driver) -> str:
    """What the status messages say (they are edited in place, so they are not in ``replies``)."""
    return "\n".join(_platform_texts(d))


def _platform_texts(d: Driver) -> list[str]:
    fake = d.fake
    if isinstance(fake, FakeDiscord):
        return [str(r.body) for r in fake.requests if isinstance(r.body, dict)]
    return [m.card_text for m in fake.messages] + [str(p.content) for p in fake.patches]


async def test_the_retry_question_is_answered_by_words_and_by_button(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        await sim.set_faults(["task:rs=2:times=2"])
        await d.say("生成一段视频：海边的日落")
        (failed,) = await jobs_of(d, db)
        assert failed.state is JobState.FAILED
        await d.say("好的", user="bob")  # someone else's "yes" does not answer alice's question
        assert len(await jobs_of(d, db)) == 1 and await sim.tasks() and len(await sim.tasks()) == 1
        await d.say("好的")
        retried = (await jobs_of(d, db))[-1]
        assert retried.parent_job_id == failed.job_id and retried.state is JobState.FAILED  # 2nd fault
        toast = await d.click(ActionKind.RETRY, retried.job_id)  # the button: the same as "yes"
        await d.bot.pipeline.wait_idle()
        third = (await jobs_of(d, db))[-1]
    assert retried.request.prompt == "海边的日落" and retried.model_id != failed.model_id
    assert third.parent_job_id == retried.job_id and third.state is JobState.DONE, toast
    assert third.model_id != retried.model_id  # the suggested model, not the one that just failed
    assert len(await sim.tasks()) == 3


async def test_cancel_one_then_several_by_buttons_numbers_and_replies(
        platform: str, db: Database, tmp_path: Path) -> None:
    async with still_time() as (clock, sim), PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        await d.say("生成一段视频：森林里的小鹿在喝水")
        await d.say("取消")
        (only,) = await jobs_of(d, db)
        assert only.state is JobState.CANCELLED
        assert "已按你的要求取消" in d.replies()[-1] and "「森林里的小鹿在喝水」" in d.replies()[-1]
        await d.say("取消")
        assert "没有正在进行的任务" in d.replies()[-1]  # true, not "already finished"
        for words in ("一只猫在窗台上睡觉", "一只狗在草地上奔跑", "一只鸟在天空飞翔"):
            await d.say(f"生成一段视频：{words}")
        running = (await jobs_of_now(d, db))[1:]
        assert [j.state.terminal for j in running] == [False, False, False]
        await d.say("取消")
        listed = [target for action, target in d.buttons() if action == "cancel"][-3:]
        assert listed == [j.job_id for j in running]
        toast = await d.click(ActionKind.CANCEL, running[0].job_id)  # a button of the list
        await d.say("2")  # a number answers the pick: the 2nd listed
        await d.say("停止", reply_to=running[2], part="status")  # a reply to its status message
        states = [j.state for j in (await jobs_of(d, db))[1:]]
    assert "一只猫在窗台上睡觉" in toast
    assert states == [JobState.CANCELLED] * 3
    assert len(await sim.tasks()) <= 4  # cancelled before or after the create; never re-created


async def test_a_word_cancel_states_the_charge_once(platform: str, db: Database, tmp_path: Path) -> None:
    async with still_time() as (clock, sim), PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        await d.say("生成一段视频：森林里的小鹿在喝水")
        await until_created(sim, 1)
        await d.say("取消")
        (job,) = await jobs_of(d, db)
        posted = d.replies()
    assert job.state is JobState.CANCELLED and job.task_id and job.credits
    charged = [text for text in posted if "扣" in text]
    assert len(charged) == 1, posted  # the job's own message, not repeated by the conversation
    assert "「森林里的小鹿在喝水」" in charged[0] and f"已扣除 {job.credits} 积分" in charged[0]
    assert len(posted) <= 3  # the generation's messages (status, cancellation) and nothing more


async def jobs_of_now(d: Driver, db: Database, user: str = "alice") -> list[Job]:
    """This user's jobs, oldest first, without waiting for them to end."""
    entries = await SqlThreadStore(db).recent_for_user(d.platform, d.user_id(user), 100)
    found = [await SqliteJobStore(db).get(e.job_id) for e in reversed(entries)]
    return [j for j in found if j is not None]


BAD_INPUT = ["", "🙂🙂🙂", "哈" * 60_000, "a" * 60_000, "<@1400000000000000002> <@1400000000000000002>",
             "@所有人", "\u200b\u200b", "\x00\x07", "**bold** _markdown_ ~~text~~",
             "```python\nprint('hi')\n```"]


async def test_bad_input_gets_an_answer_and_costs_nothing(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        for text in BAD_INPUT:
            before = len(d.replies())
            await d.say(text)
            assert len(d.replies()) > before, f"no answer to {text[:20]!r}"
        await d.bot.pipeline.wait_idle()
    answers = d.replies()
    assert all(len(a) < 6_000 for a in answers)  # never echoes 60k characters back
    paid = [j.request.prompt for j in await jobs_of(d, db)]
    assert len(await sim.tasks()) == len(paid) <= 2
    assert all("print" in p or "bold" in p for p in paid)  # only markdown / code may read as requests


def non_generation_corpus() -> list[str]:
    """The intent corpus's messages that are not generation requests (tests/intent_cases/classify)."""
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.toml")):
        cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
        texts.extend(c["text"] for c in cases if c.get("intent") != "generate" and not c.get("images"))
    return texts


def read_as_orders(texts: list[str]) -> list[str]:
    """The ones the classifier takes for generation requests (its misses, reported by its accuracy test)."""
    catalog = ModelCatalog.load_default()
    return [t for t in texts if understand(t, catalog=catalog).intent is IntentKind.GENERATE]


async def test_the_corpus_of_non_generation_messages_creates_no_task(
        platform: str, sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sample = non_generation_corpus()
    assert len(sample) >= 80
    async with PLATFORMS[platform](sim, db, clock, tmp_path) as d:
        for text in sample:
            await d.say(text)
        await d.bot.pipeline.wait_idle()
    assert read_as_orders(sample) == []  # the classifier takes none of them for an order
    assert await sim.tasks() == []  # so not one of them created (or charged) a task
    assert len(d.replies()) >= len(sample)  # each one was answered
