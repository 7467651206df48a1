"""End to end through GenerationService, the real ImaClient and the in-process simulator on virtual
time: every step in order for each task type, uploads through the real flow, preferences, actions."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.jobs import JobState
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits
from core.pipeline.service import GenerationService
from core.platform import ActionKind, ActionOutcome, Slot, Step
from core.types import Attachment, AttachmentKind, MediaType, Platform
from tests import media_factory as mf
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink


def assert_protocol_order(sink: RecordingSink, job_id: str) -> None:
    steps = sink.steps(job_id)
    assert steps[:2] == [Step.ACK, Step.PREGEN], steps
    assert steps[-3:] == [Step.SUCCESS, Step.SUCCESS, Step.DONE], steps
    assert set(steps[2:-3]) <= {Step.PROGRESS}, steps
    events = sink.for_job(job_id)
    assert [e.slot for e in events if e.step in (Step.ACK, Step.PREGEN, Step.PROGRESS, Step.DONE)] == [
        Slot.STATUS] * (len(steps) - 2)
    media_event, link_event = [e for e in events if e.step is Step.SUCCESS]
    assert media_event.media and media_event.media[0].url in link_event.text  # media first, then the link


async def run_one(service: GenerationService, text: str, attachments: tuple[Attachment, ...] = ()) -> str:
    job_id = await service.handle_message(conversation(), text, attachments)
    assert job_id is not None
    job = await service.wait_for(job_id)
    assert job is not None and job.state is JobState.DONE, job
    return job_id


def image(tmp: Path, name: str, role: str | None = None) -> Attachment:
    path = mf.image(tmp / name, 1024, 768)
    size = path.stat().st_size
    return Attachment(kind=AttachmentKind.IMAGE, name=name, ref=str(path), size=size, role=role)


@pytest.mark.parametrize(("text", "media", "task_type"), [
    ("一只柴犬在海边奔跑", MediaType.VIDEO, "text_to_video"),
    ("画一只可爱的橘猫", MediaType.IMAGE, "text_to_image"),
    ("来一段轻松的背景音乐", MediaType.MUSIC, "text_to_music"),
    ("把这句话转成语音：欢迎光临我们的小店", MediaType.SPEECH, "text_to_speech"),
])
async def test_text_requests_run_every_step_in_order(
        text: str, media: MediaType, task_type: str,
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await run_one(service, text)
    assert_protocol_order(sink, job_id)
    tasks = await sim.tasks()
    assert [t["task_type"] for t in tasks] == [task_type]
    success = sink.of_step(Step.SUCCESS, job_id)[0]
    assert success.media[0].kind is media
    assert success.credits == tasks[0]["points"]


@pytest.mark.parametrize(("text", "names", "task_type"), [
    ("让这张图动起来", ["cat.png"], "image_to_video"),
    ("从第一张过渡到第二张，首尾帧", ["first.png", "last.png"], "first_last_frame_to_video"),
    ("参考这张图的风格，生成视频", ["style.png"], "reference_image_to_video"),
])
async def test_image_inputs_are_uploaded_then_generated(
        text: str, names: list[str], task_type: str,
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path,
) -> None:
    attachments = tuple(image(tmp_path, n) for n in names)
    sinks = {Platform.CONSOLE: sink}
    async with running_service(sim, db, clock, sinks, media_dir=tmp_path / "work") as service:
        job_id = await run_one(service, text, attachments)
    assert_protocol_order(sink, job_id)
    calls = await sim.calls()
    assert calls.get("upload") == len(names)
    (task,) = await sim.tasks()
    assert task["task_type"] == task_type
    uploaded = task["payload"]["src_img_url"]
    assert len(uploaded) == len(names) and all("/_sim/files/" in url for url in uploaded)
    assert any("📤" in e.text for e in sink.of_step(Step.PROGRESS, job_id))  # the upload stage was shown


async def test_progress_is_paced_by_the_model_cadence_and_freezes_at_95(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    await sim.set_faults(["task:stuck:once"])
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), "一只柴犬在海边奔跑")
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.state is JobState.TIMED_OUT
    progress = sink.of_step(Step.PROGRESS, job_id)
    percents = [e.percent for e in progress]
    assert percents == sorted(percents) and percents[-1] == 95
    frozen = [e for e in progress if e.percent == 95]
    assert all(e.text.endswith("快了，稍等一下…") for e in frozen if "最长 420s" in e.text and
               int(e.text.split("已等待 ")[1].split("s")[0]) > 420)
    assert job.finished_at is not None and job.submitted_at is not None
    assert job.finished_at - job.submitted_at == pytest.approx(2400, abs=10)  # the 40-minute video cap
    failure = sink.of_step(Step.FAILURE, job_id)[0]
    assert "• 原因：视频生成时间过长已超时，建议用更快的模型" in failure.text
    assert "https://www.imastudio.com/ai-creation/text-to-video" in failure.text
    # polling was sparse early and regular later: far fewer polls than every 8 s for 40 minutes
    assert job.polls < 2400 / 8


async def test_repeated_delivery_of_a_message_creates_one_task(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        conv = conversation(message_id="dup-1")
        first = await service.handle_message(conv, "画一只可爱的橘猫")
        second = await service.handle_message(conv, "画一只可爱的橘猫")
        await service.wait_idle()
    assert first == second
    assert len(await sim.tasks()) == 1
    assert len(sink.of_step(Step.ACK)) == 1


async def test_missing_prompt_gets_a_friendly_ask_and_no_task(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        assert await service.handle_message(conversation(), "   ") is None
    assert [e.step for e in sink.events] == [Step.NOTICE]
    assert "想生成什么" in sink.events[0].text
    assert await sim.tasks() == []


NOT_ORDERS = ("你能做什么", "帮我查一下余额", "有哪些模型", "进度怎么样了", "取消", "help", "cancel",
              "how's it going?", "好的", "再来一个", "继续", "视频", "谢谢！", "👍")


async def test_questions_answers_and_chatter_never_create_a_task(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        for index, text in enumerate(NOT_ORDERS):
            assert await service.handle_message(conversation(message_id=f"m{index}"), text) is None
    assert await sim.tasks() == []
    assert [e.step for e in sink.events] == [Step.NOTICE] * len(NOT_ORDERS)


async def test_preference_only_message_saves_and_confirms(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        assert await service.handle_message(conversation(), "以后都用海螺") is None
        job_id = await run_one(service, "一只猫在跳舞的视频")
        described = await service.describe_preferences(Platform.CONSOLE, "user-1", conversation().platform and
                                                       sink.events[0].language)
    assert sink.events[0].step is Step.NOTICE and "已记住" in sink.events[0].text
    (task,) = await sim.tasks()
    assert task["model_id"] == "MiniMax-Hailuo-2.3"
    pregen = sink.of_step(Step.PREGEN, job_id)[0]
    assert "你的常用模型" in pregen.text
    success = sink.of_step(Step.SUCCESS, job_id)[0]
    assert "💡 提示：这个任务也许用 万相 Wan 2.6 也会不错" in success.text  # preference mismatch hint
    assert "海螺" in described or "Hailuo" in described


async def test_preference_with_prompt_saves_and_generates(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await run_one(service, "以后都用海螺，一只猫在跳舞")
        await run_one(service, "一只狗在跳舞")
    assert sink.of_step(Step.NOTICE) == []  # said in the job's status message, not a message of its own
    (pregen,) = sink.of_step(Step.PREGEN, job_id)
    assert "已记住" in pregen.text
    assert all("已记住" not in e.text for e in sink.events if e.job_id != job_id)
    assert [t["model_id"] for t in await sim.tasks()] == ["MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3"]


async def test_actions_retry_faster_first_frame_and_owner_check(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, media_dir=tmp_path / "w") as service:
        job_id = await run_one(service, "用可灵O1生成一只柴犬在海边奔跑的视频")
        stranger = await service.handle_action(conversation(user_id="someone-else"), job_id, ActionKind.RETRY)
        assert stranger.outcome is ActionOutcome.NOT_OWNER
        retry = await service.handle_action(conversation(), job_id, ActionKind.RETRY)
        faster = await service.handle_action(conversation(), job_id, ActionKind.FASTER)
        assert retry.outcome is faster.outcome is ActionOutcome.STARTED
        await service.wait_idle()
        better = await service.handle_action(conversation(), job_id, ActionKind.BETTER)
        assert better.outcome is ActionOutcome.NOT_ALLOWED and better.text == "已经是效果最好的模型了"
        cancel_done = await service.handle_action(conversation(), job_id, ActionKind.CANCEL)
        assert cancel_done.outcome is ActionOutcome.NOT_ALLOWED
    tasks = await sim.tasks()
    assert len(tasks) == 3
    assert [t["model_id"] for t in tasks] == ["kling-video-o1", "kling-video-o1", "wan2.6-t2v"]
    success_actions = sink.of_step(Step.SUCCESS, job_id)[0].actions
    assert success_actions == (ActionKind.RETRY, ActionKind.FASTER, ActionKind.FIRST_FRAME)


async def test_cancel_while_running_stops_polling_and_warns_about_credits(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), "一只柴犬在海边奔跑")
        assert job_id is not None
        while not sink.of_step(Step.PROGRESS, job_id):
            await clock.sleep(1)
        reply = await service.handle_action(conversation(), job_id, ActionKind.CANCEL)
        job = await service.job(job_id)
        polls_then = (await sim.calls()).get("tasks/detail", 0)
        await clock.sleep(600)
        polls_later = (await sim.calls()).get("tasks/detail", 0)
    assert job is not None and job.state is JobState.CANCELLED
    assert reply.outcome is ActionOutcome.CANCELLED
    assert f"任务已在 IMA 创建（ID：{job.task_id}），这次的 {job.credits} 积分已经扣除" in reply.text
    assert "IMA 无法停止已创建的任务" in reply.text
    assert polls_later == polls_then
    failure = sink.of_step(Step.FAILURE, job_id)[0]
    assert job.task_id is not None
    assert f"🧾 任务已创建（ID：{job.task_id}），已扣除 {job.credits} 积分。" in failure.text
    assert sink.of_step(Step.SUCCESS, job_id) == []


async def test_first_frame_action_animates_the_result_cover(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path,
) -> None:
    async def public_dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]  # pretend the simulator's media host is a public CDN

    remote = SafeRemoteFetcher(transport=sim.transport, resolver=public_dns)
    async with sim.client() as uploader:
        preparer = AttachmentPreparer(uploader, PyAvProbe(), remote, MediaLimits.load_default(),
                                      temp_dir=tmp_path / "w")
        async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, preparer=preparer) as service:
            job_id = await run_one(service, "画一只可爱的橘猫")
            reply = await service.handle_action(conversation(), job_id, ActionKind.FIRST_FRAME)
            assert reply.outcome is ActionOutcome.STARTED and reply.new_job_id
            child = await service.wait_for(reply.new_job_id)
    await remote.aclose()
    assert child is not None and child.state is JobState.DONE and child.parent_job_id == job_id
    _, video_task = await sim.tasks()
    assert video_task["task_type"] == "image_to_video"
    assert video_task["payload"]["src_img_url"][0].startswith("http://ima.sim/")


async def test_expensive_auto_selected_model_names_a_cheaper_alternative(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path) -> None:
    frames = (image(tmp_path, "first.png"), image(tmp_path, "last.png"))
    sinks = {Platform.CONSOLE: sink}
    async with running_service(sim, db, clock, sinks, media_dir=tmp_path / "w") as service:
        auto = await run_one(service, "从第一张过渡到第二张，首尾帧", frames)
        chosen = await run_one(service, "用可灵O1做首尾帧视频，从第一张过渡到第二张", frames)
    # With attachments the cost appears only once the files passed their checks (issue #12).
    assert sink.of_step(Step.PREGEN, auto)[0].credits is None
    auto_quote = next(e for e in sink.for_job(auto) if e.credits is not None)
    assert auto_quote.credits is not None and auto_quote.credits > 50
    assert "💡 若想省积分，可选" in auto_quote.text
    chosen_quote = next(e for e in sink.for_job(chosen) if e.credits is not None)
    assert "💡" not in chosen_quote.text  # the user asked for this model


async def test_progress_updates_are_steady_and_at_most_15_s_apart(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await run_one(service, "用可灵O1生成一只柴犬在海边奔跑的视频")
    elapsed = [int(e.text.split("已等待 ")[1].split("s")[0]) for e in sink.of_step(Step.PROGRESS, job_id)]
    assert len(elapsed) >= 3
    # Kling O1's catalog cadence is 60 s; a running job is never left more than 15 s without an update
    assert {b - a for a, b in itertools.pairwise(elapsed)} == {15}
