"""The conversation layer through ``ConversationService`` on the in-process simulator (virtual time):
what users notice — which messages start paid tasks, follow-ups, the retry question, cancel."""

from __future__ import annotations

from pathlib import Path

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.conversation.service import ConversationService
from core.jobs import JobState
from core.platform import ActionKind, ActionOutcome, Slot, Step
from core.types import Conversation, Platform
from tests.support.conversation import running_conversation, still_time, until_created
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.sinks import RecordingSink

NOT_ORDERS = ["你能做什么", "帮我查一下余额", "有哪些模型", "进度怎么样了", "取消", "help", "cancel",
              "how's it going?", "好的", "谢谢", "👍🎉", "", "   ", "视频", "test", "再来一个", "继续",
              "现在默认用的哪个模型", "把偏好删了", "可灵和海螺哪个好", "asdfghjkl qwrtzp"]


async def ask(bot: ConversationService, text: str, **where: str) -> str | None:
    return await bot.handle_message(say(text, **where), text)


def say(text: str, user: str = "alice", chat: str = "chat-1", reply_to: str | None = None) -> Conversation:
    c = conversation(Platform.CONSOLE, user_id=user, chat_id=chat)
    return Conversation(c.platform, c.chat_id, c.user_id, c.message_id, c.is_direct, reply_to=reply_to)


async def test_messages_that_are_not_orders_create_no_task(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        for text in NOT_ORDERS:
            assert await bot.handle_message(say(text), text) is None, text
        await bot.pipeline.wait_idle()
    assert await sim.tasks() == []
    notices = sink.of_step(Step.NOTICE)
    assert len(notices) == len(NOT_ORDERS)  # every message got exactly one answer
    assert all(e.text.strip() for e in notices)


async def finished(bot: ConversationService, job_id: str | None) -> None:
    assert job_id is not None
    job = await bot.pipeline.wait_for(job_id)
    assert job is not None and job.state.terminal


async def test_again_and_edits_repeat_the_last_request(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        first = await ask(bot, "生成一段视频：一只橘猫在窗台上晒太阳")
        await finished(bot, first)
        again = await ask(bot, "再来一个")
        await finished(bot, again)
        vertical = await ask(bot, "和上次一样，但是竖屏")
        await finished(bot, vertical)
        kling = await ask(bot, "换成可灵")
        await finished(bot, kling)
    tasks = await sim.tasks()
    assert len(tasks) == 4
    jobs = [await bot.pipeline.job(j) for j in (first, again, vertical, kling) if j]
    assert all(j is not None and j.request.prompt.startswith("一只橘猫在窗台上晒太阳") for j in jobs)
    assert jobs[2] is not None and jobs[2].request.params.get("aspect_ratio") == "9:16"
    assert jobs[3] is not None and jobs[3].model_id == "kling-video-o1"
    assert jobs[3].request.params.get("aspect_ratio") == "9:16"  # edits build on the last request
    pregen = [e.text for e in sink.of_step(Step.PREGEN)]
    assert "按上次的请求「一只橘猫在窗台上晒太阳」再来一次" in pregen[1]
    assert "沿用上次的请求「一只橘猫在窗台上晒太阳」" in pregen[2]


async def test_the_retry_question_is_answered_by_words(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        await sim.set_faults(["task:rs=2:times=2"])
        failed = await ask(bot, "生成一段视频：海边的日落")
        await finished(bot, failed)
        failure = sink.of_step(Step.FAILURE)[-1]
        assert "需要我帮你重试吗" in failure.text and failure.alternatives
        suggested = failure.alternatives[0].model_id
        retried = await ask(bot, "好的")  # yes: the suggested model, same prompt
        await finished(bot, retried)
        hailuo = await ask(bot, "用海螺吧")  # the second failure's offer, by name
        await finished(bot, hailuo)
        no_more = await ask(bot, "好的")  # nothing pending any more: smalltalk
    assert no_more is None
    jobs = [await bot.pipeline.job(j) for j in (failed, retried, hailuo) if j]
    assert [j.request.prompt for j in jobs if j] == ["海边的日落"] * 3
    assert jobs[1] is not None and jobs[1].model_id == suggested and jobs[1].parent_job_id == failed
    assert jobs[2] is not None and jobs[2].model_id == "MiniMax-Hailuo-2.3"
    assert len(await sim.tasks()) == 3


async def test_the_retry_question_ends_with_no_and_a_button_acts_like_yes(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        await sim.set_faults(["task:rs=2:times=2"])
        first = await ask(bot, "生成一段视频：雨中的城市")
        await finished(bot, first)
        assert await ask(bot, "不用了") is None
        assert "不重试了" in sink.events[-1].text
        second = await ask(bot, "生成一段视频：雪中的城市")
        await finished(bot, second)
        suggested = sink.of_step(Step.FAILURE)[-1].alternatives[0].model_id
        assert second is not None
        reply = await bot.handle_action(say("", user="bob"), second, ActionKind.RETRY)
        assert reply.outcome is ActionOutcome.NOT_OWNER  # only the asker
        reply = await bot.handle_action(say(""), second, ActionKind.RETRY)
        assert reply.outcome is ActionOutcome.STARTED
        await finished(bot, reply.new_job_id)
        late = await ask(bot, "好的")  # the button already answered it
    assert late is None
    assert reply.new_job_id is not None
    retried = await bot.pipeline.job(reply.new_job_id)
    assert retried is not None and retried.model_id == suggested  # button and words: the same action
    assert len(await sim.tasks()) == 3


async def test_cancel_one_job_and_tell_the_truth_twice(db: Database, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with still_time() as (clock, sim), running_conversation(
            sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        job_id = await ask(bot, "生成一段视频：森林里的小鹿")
        assert job_id is not None
        await until_created(sim, 1)
        before = len(sink.events)
        await ask(bot, "取消")
        await bot.pipeline.wait_idle()
        after_cancel = sink.events[before:]
        await ask(bot, "cancel that")
        second_reply = sink.events[-1].text
        job = await bot.pipeline.job(job_id)
    assert job is not None and job.state is JobState.CANCELLED and job.credits
    charge_statements = [e.text for e in after_cancel if "扣" in e.text]
    assert len(charge_statements) == 1, charge_statements  # said once, not by the job and the chat
    assert "已按你的要求取消" in charge_statements[0]
    assert f"已扣除 {job.credits} 积分" in charge_statements[0]  # created at IMA: it is charged
    assert job.task_id and job.task_id in charge_statements[0]
    assert [e.step for e in after_cancel if e.slot is not Slot.STATUS] == [Step.FAILURE]  # one new message
    assert "nothing to cancel" in second_reply  # true: nothing runs (not "already finished")


async def test_cancel_with_several_jobs_lists_them_and_takes_a_number_or_a_reply(
        db: Database, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with still_time() as (clock, sim), running_conversation(
            sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        words = ("一只猫在睡觉", "狗在草地上跑", "鸟在天上飞")
        ids = [await ask(bot, f"生成一段视频：{w}") for w in words]
        await until_created(sim, 3)
        await ask(bot, "取消")
        listing = sink.events[-1]
        assert "3 个任务在进行" in listing.text
        assert "1. 「一只猫在睡觉」" in listing.text and "3. 「鸟在天上飞」" in listing.text
        assert [c.action for c in listing.choices] == [ActionKind.CANCEL] * 3
        assert [c.target_id for c in listing.choices] == ids
        mark = len(sink.events)
        await ask(bot, "2")  # the number answers the pick
        picked = "\n".join(e.text for e in sink.events[mark:] if e.slot is not Slot.STATUS)
        assert ids[0] is not None and ids[2] is not None
        status_ref = (await bot.pipeline.job(ids[2]))
        assert status_ref is not None
        mark = len(sink.events)
        await bot.handle_message(say("停止", reply_to=status_ref.message_refs["status"]), "停止")  # a reply
        replied = "\n".join(e.text for e in sink.events[mark:] if e.slot is not Slot.STATUS)
        by_button = await bot.handle_action(say(""), ids[0], ActionKind.CANCEL)
        again = await bot.handle_action(say(""), ids[0], ActionKind.CANCEL)
        states = [(await bot.pipeline.job(j)) for j in ids if j]
    assert "「狗在草地上跑」" in picked and "已按你的要求取消" in picked and picked.count("已扣除") == 1
    assert "「鸟在天上飞」" in replied and "已按你的要求取消" in replied and replied.count("已扣除") == 1
    assert by_button.outcome is ActionOutcome.CANCELLED and "一只猫在睡觉" in by_button.text
    assert again.outcome is ActionOutcome.NOT_ALLOWED and "已经取消过了" in again.text  # never "finished"
    assert [s.state for s in states if s] == [JobState.CANCELLED] * 3


async def test_continue_starts_from_the_last_frame_of_the_video(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        clip = await ask(bot, "生成一段视频：小船驶向灯塔")
        await finished(bot, clip)
        more = await ask(bot, "继续")
        await finished(bot, more)
    assert more is not None and clip is not None
    job = await bot.pipeline.job(more)
    first = await bot.pipeline.job(clip)
    assert job is not None and first is not None
    assert job.request.task_type.value == "image_to_video" and job.parent_job_id == clip
    (frame,) = job.request.attachments
    assert frame.role == "first_frame" and frame.ref != first.result[0].cover_url  # not the cover
    assert job.request.prompt == "小船驶向灯塔"
    assert "从视频「小船驶向灯塔」的最后一帧接着拍" in sink.of_step(Step.PREGEN, more)[0].text
    tasks = await sim.tasks()
    assert len(tasks) == 2


async def test_the_same_subject_starts_from_the_earlier_result(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        dog = await ask(bot, "画一张图：一只小狗，叫旺财")
        await finished(bot, dog)
        swim = await ask(bot, "生成旺财在游泳的视频")
        await finished(bot, swim)
        other = await ask(bot, "生成一段视频：城市夜景延时")
        await finished(bot, other)
    assert dog is not None and swim is not None and other is not None
    image = await bot.pipeline.job(dog)
    video = await bot.pipeline.job(swim)
    unrelated = await bot.pipeline.job(other)
    assert image is not None and video is not None and unrelated is not None
    assert video.request.task_type.value == "image_to_video" and video.parent_job_id == dog
    assert [a.ref for a in video.request.attachments] == [image.result[0].url]
    assert "沿用你之前生成的「一只小狗，叫旺财」作为首帧" in sink.of_step(Step.PREGEN, swim)[0].text
    assert unrelated.request.task_type.value == "text_to_video"  # a new subject is not forced onto it


async def test_a_reply_to_an_image_result_uses_it_as_input(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        cat = await ask(bot, "画一张图：窗台上的橘猫")
        await finished(bot, cat)
        image = await bot.pipeline.job(cat or "")
        assert image is not None
        result_ref = image.message_refs["result:0"]
        moving = await bot.handle_message(say("让它动起来", reply_to=result_ref), "让它动起来")
        await finished(bot, moving)
        restyled = await bot.handle_message(say("改成油画风格", reply_to=result_ref), "改成油画风格")
        await finished(bot, restyled)
    video = await bot.pipeline.job(moving or "")
    painting = await bot.pipeline.job(restyled or "")
    assert video is not None and painting is not None
    assert video.request.task_type.value == "image_to_video"
    assert painting.request.task_type.value == "image_to_image"
    assert [a.ref for a in video.request.attachments] == [image.result[0].url]
    assert "以你之前生成的「窗台上的橘猫」为输入" in sink.of_step(Step.PREGEN, moving)[0].text


async def test_the_retry_question_survives_a_restart(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    await sim.set_faults(["task:rs=2:once"])
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        failed = await ask(bot, "生成一段视频：雪山上的日出")
        await finished(bot, failed)
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:  # restarted
        stranger = await ask(bot, "好的", user="bob")
        retried = await ask(bot, "好的")
        await finished(bot, retried)
    assert stranger is None  # bob's "yes" is small talk: the question was alice's
    job = await bot.pipeline.job(retried or "")
    assert job is not None and job.parent_job_id == failed and job.state is JobState.DONE
    assert len(await sim.tasks()) == 2


async def test_only_the_owner_can_cancel_a_job_by_button(db: Database, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with still_time() as (clock, sim), running_conversation(
            sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        job_id = await ask(bot, "生成一段视频：湖面上的天鹅")
        assert job_id is not None
        await until_created(sim, 1)
        stranger = await bot.handle_action(say("", user="bob"), job_id, ActionKind.CANCEL)
        owner = await bot.handle_action(say(""), job_id, ActionKind.CANCEL)
        job = await bot.pipeline.job(job_id)
    assert stranger.outcome is ActionOutcome.NOT_OWNER
    assert owner.outcome is ActionOutcome.CANCELLED and "积分已经扣除" in owner.text
    assert job is not None and job.state is JobState.CANCELLED


async def test_status_lists_the_running_jobs_with_model_and_progress(db: Database, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with still_time() as (clock, sim), running_conversation(
            sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        await ask(bot, "生成一段视频：草原上奔跑的骏马")
        await ask(bot, "用海螺生成一段视频：城市的雨夜")
        await until_created(sim, 2)
        clock.advance(60)  # a minute of generation (polls and progress lines run)
        await until_created(sim, 2)
        await ask(bot, "进度怎么样了")
        answer = sink.events[-1].text
        await ask(bot, "全部取消")
    assert "你正在进行的任务" in answer
    assert "1. 「草原上奔跑的骏马」· 万相 Wan 2.6 · " in answer and "2. 「城市的雨夜」· 海螺 2.3 · " in answer
    assert "%" in answer and len(await sim.tasks()) == 2


async def test_model_comparisons_are_answered_in_the_users_language(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    sink = RecordingSink()
    async with running_conversation(sim, db, clock, {Platform.CONSOLE: sink}, tmp_path) as bot:
        await ask(bot, "可灵和海螺哪个好")
        chinese = sink.events[-1].text
        await ask(bot, "Kling or Hailuo, which one is better?")
        english = sink.events[-1].text
    assert "可灵 O1" in chinese and "参考图还原度最好" in chinese  # Kling O1's note, in Chinese
    assert "reference fidelity" not in chinese and "pts" not in chinese
    assert "Here's how they compare" in english and "best reference fidelity" in english
    assert "积分" not in english and "参考图" not in english
    assert await sim.tasks() == []
