# ruff: noqa: E501  (exact user-facing strings read better unwrapped)
"""A cancel that arrives while the create call is at IMA and its answer has not come back yet tells the
truth about money, through the service and the in-process simulator on virtual time, in zh and en:
if IMA then answers, the task exists — its id and points are named, and the user learns that IMA cannot
stop it (the API has no such call); if the answer never comes, nobody can tell — check the record
first. Never "nothing was charged" once the create request may have left."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.jobs import Job, JobState
from core.platform import ActionKind, ActionOutcome, Step
from core.types import Platform
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

RECORD = "https://www.imastudio.com/ai-creation/text-to-video"
TEXTS = {"zh": "一只柴犬在海边奔跑", "en": "a corgi running on the beach, video"}
PROMPTS = {"zh": "一只柴犬在海边奔跑", "en": "a corgi running on the …"}  # excerpts (24 characters)
MODEL = {"zh": "万相 Wan 2.6", "en": "Wan 2.6"}
NOTHING = {"zh": "没有扣除积分", "en": "Nothing was charged"}

TOAST_CREATED = {
    "zh": "已在这里取消「{prompt}」（{model}），但任务已在 IMA 创建（ID：{task_id}），这次的 {credits} 积分已经扣除：IMA 无法停止已创建的任务，它会继续生成，结果可在创作记录中查看：" + RECORD,
    "en": "Cancelled \"{prompt}\" ({model}) here, but the task had already been created at IMA (ID: {task_id}) and its {credits} points are charged: IMA has no way to stop a created task, so it keeps running and its result will be in your creation record: " + RECORD,
}
MESSAGE_CREATED = {
    "zh": "🛑 已按你的要求取消\n「{prompt}」（{model}）\n🧾 任务已创建（ID：{task_id}），已扣除 {credits} 积分。请到创作记录查看它的状态：" + RECORD
          + "\nIMA 无法停止已创建的任务：它会继续生成，积分照常扣除。我不会再在这里跟进它，完成后可在创作记录中找到结果。",
    "en": "🛑 Cancelled as you asked\n\"{prompt}\" ({model})\n🧾 The task was created (ID: {task_id}) and {credits} points were charged. Check its state in your creation record: " + RECORD
          + "\nIMA has no way to stop a task once it is created: it keeps running and stays charged. I won't follow it here any more; when it finishes, its result is in your creation record.",
}
TOAST_UNKNOWN = {
    "zh": "已在这里取消「{prompt}」。取消时创建请求可能已经到达 IMA，但还没有收到回复，所以无法确认任务是否已创建；如果已创建，积分已被扣除，IMA 也无法停止它。再试之前请先到创作记录查看，以免重复付费：" + RECORD,
    "en": "Cancelled \"{prompt}\" here. The create request may already have reached IMA and no answer had come back, so I can't tell whether the task was created; if it was, its points are charged and IMA can't stop it. Check your creation record before trying again so you don't pay twice: " + RECORD,
}
MESSAGE_UNKNOWN = {
    "zh": "🛑 已按你的要求取消\n「{prompt}」（{model}）\n⚠️ 无法确认任务是否已创建；如果已创建，积分已被扣除。再试之前请先到创作记录查看，以免重复付费：" + RECORD
          + "\n如果任务已经创建，IMA 也无法停止它：它会继续生成并扣除积分，结果会出现在创作记录中。",
    "en": "🛑 Cancelled as you asked\n\"{prompt}\" ({model})\n⚠️ I can't tell whether the task was created; if it was, its points were charged. Check your creation record before trying again so you don't pay twice: " + RECORD
          + "\nIf it was created, IMA can't stop it: it keeps running and is charged, and its result will show up in your creation record.",
}


async def _until(condition: Callable[[], object], what: str, bound_s: float = 60.0) -> None:
    """Let the loop run (virtual time held still) until ``condition`` holds; ``bound_s`` of real time
    only ends a stuck test (intake waits on SQLite's worker thread)."""
    give_up = time.monotonic() + bound_s
    while time.monotonic() < give_up:
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


async def _cancel_while_the_create_is_at_ima(
        fault: str, language: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
) -> tuple[str, str, Job]:
    """Send a request, hold IMA's create answer (``fault`` delays it), press cancel meanwhile, then let
    the answer come. Returns the toast, the job's own cancellation message and the job; checks what the
    cancel did to the job."""
    await sim.set_faults([fault])
    user = conversation()
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        clock.auto = False  # virtual time held: the simulator keeps the create request, unanswered
        job_id = await service.handle_message(user, TEXTS[language])
        assert job_id is not None
        give_up = time.monotonic() + 60
        while (await sim.calls()).get("tasks/create", 0) < 1:
            assert time.monotonic() < give_up, "the create request never reached the simulator"
            await asyncio.sleep(0)
        stored = await service.job(job_id)
        assert stored is not None and stored.state is JobState.SUBMITTING
        cancel = asyncio.ensure_future(service.handle_action(user, job_id, ActionKind.CANCEL))
        await _until(lambda: job_id not in service.running_job_ids(), "the cancel stopped the job task")
        assert not cancel.done()  # the cancel waits for IMA's answer before it says anything
        assert await sim.tasks() == []  # IMA has not answered yet
        clock.auto = True  # the answer (or the broken connection) comes back
        reply = await cancel
        job = await service.job(job_id)
        await clock.sleep(900)  # a cancelled job is followed no further, even if IMA finishes it
        polls = (await sim.calls()).get("tasks/detail", 0)
    assert reply.outcome is ActionOutcome.CANCELLED
    assert job is not None and job.state is JobState.CANCELLED
    assert polls == 0 and sink.of_step(Step.SUCCESS, job_id) == []
    (message,) = sink.of_step(Step.FAILURE, job_id)  # the job's own cancellation message, once
    assert message.actions == () and message.alternatives == ()  # no paid retry offered on a cancel
    for text in (reply.text, message.text):
        assert NOTHING[language] not in text and "没有扣积分" not in text
    return reply.text, message.text, job



@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_cancel_while_the_create_is_at_ima_names_the_task_it_could_not_stop(
        language: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    toast, message, job = await _cancel_while_the_create_is_at_ima(
        "create:delay=5:once", language, sim, db, clock, sink)
    (task,) = await sim.tasks()  # IMA created it after the cancel was pressed: it exists and is charged
    assert job.task_id == task["id"]
    facts = {"prompt": PROMPTS[language], "model": MODEL[language], "task_id": task["id"], "credits": 40}
    assert toast == TOAST_CREATED[language].format(**facts)
    assert message == MESSAGE_CREATED[language].format(**facts)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_cancel_while_the_create_answer_is_lost_says_it_cannot_tell(
        language: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    toast, message, job = await _cancel_while_the_create_is_at_ima(
        "create:delay=5:reset:once", language, sim, db, clock, sink)
    facts = {"prompt": PROMPTS[language], "model": MODEL[language]}
    assert toast == TOAST_UNKNOWN[language].format(**facts)
    assert message == MESSAGE_UNKNOWN[language].format(**facts)
    assert job.task_id is None and job.maybe_created  # counted against budgets too
