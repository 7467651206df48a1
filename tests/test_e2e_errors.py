# ruff: noqa: E501  (a table of exact user-facing strings reads better unwrapped)
"""Each failure the simulator can produce reaches the user as the seeds' translated reason, in zh and
en, with the right links, alternatives and no technical words; nothing is created twice."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.errors import ErrorKind
from core.jobs import JobState
from core.platform import ActionKind, Step
from core.types import Attachment, AttachmentKind, Platform
from tests import media_factory as mf
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

ZH_TEXT, EN_TEXT = "一只柴犬在海边奔跑", "a corgi running on the beach, video"
ZH_PRO, EN_PRO = "用 Ima Sevio 1.0 生成一只柴犬在海边奔跑", "use Ima Sevio 1.0 to make a video of a corgi running on the beach"


async def no_setup(sim: SimHarness) -> None:
    return None


def faults(*specs: str) -> Callable[[SimHarness], Awaitable[None]]:
    async def setup(sim: SimHarness) -> None:
        await sim.set_faults(specs)
    return setup


async def broke(sim: SimHarness) -> None:
    await sim.set_account(balance=0)


async def no_subscription(sim: SimHarness) -> None:
    await sim.set_account(subscription=False)


@dataclass(frozen=True)
class Case:
    kind: ErrorKind
    setup: Callable[[SimHarness], Awaitable[None]]
    zh: str
    en: str
    texts: tuple[str, str] = (ZH_TEXT, EN_TEXT)
    api_key: str = "ima_test_key_0123456789"
    created: int | None = None  # tasks the simulator must have created (None: do not check)


CASES = [
    Case(ErrorKind.AUTH, no_setup, "密钥无效或未授权", "Your IMA key is invalid or unauthorized", api_key="not-a-valid-key", created=0),
    Case(ErrorKind.INSUFFICIENT_POINTS, broke, "积分不足，无法创建任务", "Insufficient points to create this task", created=0),
    Case(ErrorKind.SUBSCRIPTION_REQUIRED, no_subscription, "这个模型需要订阅会员才能使用", "This model requires a subscription", texts=(ZH_PRO, EN_PRO), created=0),
    Case(ErrorKind.CREDIT_MISMATCH, faults("create:code=6006"), "积分计算异常，系统正在修复", "Points calculation error, system is fixing", created=0),
    Case(ErrorKind.NO_RULE, faults("create:code=6009"), "参数组合不匹配，自动调整后仍未成功，请换个模型试试", "Parameter mismatch that auto-adjusting could not fix, try another model", created=0),
    Case(ErrorKind.ATTRIBUTE_MISMATCH, faults("create:code=6010"), "模型参数不匹配，请尝试其他模型", "Model parameters incompatible, try another model", created=0),
    Case(ErrorKind.BAD_PARAMS, faults("create:code=400"), "视频参数设置有误，请调整时长或分辨率", "Video parameter error, adjust duration or resolution", created=0),
    Case(ErrorKind.RATE_LIMITED, faults("create:http=429:retry_after=3"), "请求过于频繁，请稍等片刻再试", "Too many requests, please wait a moment", created=0),
    Case(ErrorKind.UNAVAILABLE, faults("create:code=503"), "当前模型暂时不可用，建议换个模型", "Model temporarily unavailable, try another model", created=0),
    Case(ErrorKind.SERVER_ERROR, faults("create:code=500"), "视频生成遇到问题，请稍后重试或换个模型试试", "Video generation encountered an issue, please try again or use another model", created=0),
    Case(ErrorKind.NETWORK, faults("any:reset"), "网络连接不稳定，请检查网络后重试", "Network connection unstable, check network and retry", created=0),
    Case(ErrorKind.PROTOCOL, faults("list:malformed"), "视频生成遇到问题，请稍后重试或换个模型试试", "Video generation encountered an issue, please try again or use another model", created=0),
    Case(ErrorKind.MEDIA_FAILED, faults("task:rs=2"), "视频生成遇到问题，建议换个模型试试", "Video generation failed, try another model", created=1),
    Case(ErrorKind.CONTENT_POLICY, faults("task:rs=2:error_msg=content policy violation"), "提示词包含敏感内容，请修改后重试", "Prompt contains restricted content, please modify", created=1),
    Case(ErrorKind.DELETED, faults("task:rs=3"), "这次的作品已被删除，要不再试一次？", "This result was removed, want to try again?", created=1),
    Case(ErrorKind.TIMEOUT, faults("task:stuck"), "视频生成时间过长已超时，建议用更快的模型", "Video generation took too long, try a faster model", created=1),
]

_TECHNICAL = re.compile(r"\b(API|HTTP|attribute_id|model_version|form_config|4008|401|4014|6006|6009|6010|500|503|429)\b|Traceback|Error\(|\.py\b")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("case", CASES, ids=[c.kind.value for c in CASES])
async def test_failure_is_translated_for_the_user(case: Case, language: str, sim: SimHarness, db: Database,
                                                  clock: FakeClock, sink: RecordingSink) -> None:
    await case.setup(sim)
    text = case.texts[0] if language == "zh" else case.texts[1]
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, api_key=case.api_key) as service:
        job_id = await service.handle_message(conversation(), text)
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.error_kind is case.kind
    assert job.state is (JobState.TIMED_OUT if case.kind is ErrorKind.TIMEOUT else JobState.FAILED)
    (failure,) = sink.of_step(Step.FAILURE, job_id)
    reason = case.zh if language == "zh" else case.en
    label = "• 原因：" if language == "zh" else "• Reason: "
    assert failure.text.splitlines()[1] == label + reason
    assert failure.error_kind is case.kind
    assert not _TECHNICAL.search(failure.text.replace("imaclaw/apikey", "")), failure.text
    assert sink.steps(job_id)[0] is Step.ACK and sink.steps(job_id)[-1] is Step.DONE
    if case.created is not None:
        assert len(await sim.tasks()) == case.created


async def test_key_and_credit_failures_carry_their_links(sim: SimHarness, db: Database, clock: FakeClock,
                                                         sink: RecordingSink) -> None:
    await sim.set_account(balance=0)
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        points = await service.handle_message(conversation(), ZH_TEXT)
        assert points is not None
        await service.wait_for(points)
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, api_key="bad") as service:
        auth = await service.handle_message(conversation(), EN_TEXT)
        assert auth is not None
        await service.wait_for(auth)
    points_text = sink.of_step(Step.FAILURE, points)[0].text
    assert "💡 购买积分: https://www.imaclaw.ai/imaclaw/subscription" in points_text
    assert "• 建议改用：" in points_text and "需要我帮你用其他模型重试吗？" in points_text
    auth_event = sink.of_step(Step.FAILURE, auth)[0]
    assert "💡 Generate a new key: https://www.imaclaw.ai/imaclaw/apikey" in auth_event.text
    assert auth_event.actions == () and auth_event.alternatives == ()


async def test_failed_model_suggests_alternatives_and_retry_goes_through_the_pipeline(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    await sim.set_faults(["task:rs=2:once"])
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), ZH_TEXT)
        assert job_id is not None
        await service.wait_for(job_id)
        failure = sink.of_step(Step.FAILURE, job_id)[0]
        assert 1 <= len(failure.alternatives) <= 2 and all(a.points for a in failure.alternatives)
        assert ActionKind.RETRY in failure.actions
        reply = await service.handle_action(conversation(), job_id, ActionKind.RETRY)
        assert reply.new_job_id is not None
        retried = await service.wait_for(reply.new_job_id)
    assert retried is not None and retried.state is JobState.DONE
    assert len(await sim.tasks()) == 2


async def test_transient_errors_before_the_create_are_retried_and_polls_back_off(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    await sim.set_faults(["list:http=429:retry_after=7:times=2", "detail:reset:times=3"])
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), ZH_TEXT)
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.state is JobState.DONE
    assert len(await sim.tasks()) == 1
    assert sink.of_step(Step.FAILURE) == []
    assert (await sim.calls())["product/list"] >= 3


async def test_unusable_attachment_is_explained_before_any_upload(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink, tmp_path: Path) -> None:
    fake_png = mf.text_as(tmp_path / "notes.png")
    attachment = Attachment(AttachmentKind.IMAGE, "notes.png", str(fake_png), size=fake_png.stat().st_size)
    sinks = {Platform.CONSOLE: sink}
    async with running_service(sim, db, clock, sinks, media_dir=tmp_path / "w") as service:
        job_id = await service.handle_message(conversation(), "让这张图动起来", (attachment,))
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.error_kind is ErrorKind.INVALID_INPUT
    text = sink.of_step(Step.FAILURE, job_id)[0].text
    assert text.splitlines()[1] == "• 原因：输入图片处理失败，请检查图片格式或换张图"
    assert "附件有问题，已在上传前停止" in text and "notes.png" in text
    assert text.splitlines()[-1] == "💰 没有扣除积分。"
    assert (await sim.calls()).get("upload", 0) == 0 and await sim.tasks() == []
