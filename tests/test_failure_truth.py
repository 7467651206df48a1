# ruff: noqa: E501  (a table of exact user-facing strings reads better unwrapped)
"""Failure texts tell the truth about money (issue #13 item 3), end to end through the service and the
in-process simulator, exactly, in zh and en: before the create nothing was charged; a create whose answer
never came may have been charged (check the record first, no retry button); after a task id every
failure names the task, says it was charged and points to the creation record before any paid retry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.errors import ErrorKind, ImaApiError
from core.platform import Step
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSpec
from core.types import Attachment, AttachmentKind, Platform
from tests import media_factory as mf
from tests.support.conversations import conversation
from tests.support.ima import SimHarness
from tests.support.service import running_service
from tests.support.sinks import RecordingSink

RECORD = "https://www.imastudio.com/ai-creation/text-to-video"
TEXTS = {"zh": "一只柴犬在海边奔跑", "en": "a corgi running on the beach, video"}
I2V = {"zh": "让这张图动起来", "en": "make this picture move, video"}


class AnswerLost:
    """The create reaches IMA (the task exists and is charged) but its answer never arrives."""

    def __init__(self, inner: ImaGateway, kind: ErrorKind) -> None:
        self._inner = inner
        self._kind = kind

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        await self._inner.create_task(spec, watch)
        raise ImaApiError("create: ReadTimeout", kind=self._kind)


@dataclass(frozen=True)
class Case:
    kind: ErrorKind
    faults: tuple[str, ...] = ()
    image: str | None = None  # "local" (uploaded) or a URL
    wrap: Callable[[ImaGateway], ImaGateway] | None = None
    created: int = 0


CASES = {
    "create_unconfirmed": Case(ErrorKind.CREATE_UNCONFIRMED, ("create:reset:once",)),
    "create_timed_out": Case(ErrorKind.CREATE_TIMED_OUT, wrap=lambda g: AnswerLost(g, ErrorKind.CREATE_TIMED_OUT), created=1),
    "upload_refused": Case(ErrorKind.UPLOAD_REFUSED, ("upload:http=403",), image="local"),
    "task_not_found": Case(ErrorKind.TASK_NOT_FOUND, ("detail:code=404:message=Task not found",), created=1),
    "poll_unreachable": Case(ErrorKind.POLL_UNREACHABLE, ("detail:reset",), created=1),
    "unsafe_url": Case(ErrorKind.UNSAFE_URL, image="http://10.0.0.1/cat.png"),
}


async def _run(case: Case, language: str, sim: SimHarness, db: Database, clock: FakeClock,
               sink: RecordingSink, tmp_path: Path) -> tuple[str, Any]:
    await sim.set_faults(case.faults)
    attachments: tuple[Attachment, ...] = ()
    text = TEXTS[language]
    if case.image is not None:
        text = I2V[language]
        ref = str(mf.image(tmp_path / "cat.png", 640, 640)) if case.image == "local" else case.image
        attachments = (Attachment(AttachmentKind.IMAGE, "cat.png", ref),)
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}, media_dir=tmp_path / "w",
                               wrap_gateway=case.wrap) as service:
        job_id = await service.handle_message(conversation(), text, attachments)
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.error_kind is case.kind
    assert len(await sim.tasks()) == case.created
    (failure,) = sink.of_step(Step.FAILURE, job_id)
    text = failure.text.replace(job.task_id, "{task_id}") if job.task_id else failure.text
    return text, failure


UNKNOWN = {
    "zh": f"⚠️ 无法确认任务是否已创建；如果已创建，积分已被扣除。再试之前请先到创作记录查看，以免重复付费：{RECORD}",
    "en": f"⚠️ I can't tell whether the task was created; if it was, its points were charged. Check your creation record before trying again so you don't pay twice: {RECORD}",
}
CREATED = {
    "zh": f"🧾 任务已创建（ID：{{task_id}}），已扣除 40 积分。请到创作记录查看它的状态：{RECORD}",
    "en": f"🧾 The task was created (ID: {{task_id}}) and 40 points were charged. Check its state in your creation record: {RECORD}",
}
NOTHING = {"zh": "💰 没有扣除积分。", "en": "💰 Nothing was charged."}
HEAD = {"zh": "❌ 视频生成失败\n• 原因：", "en": "❌ Video generation failed\n• Reason: "}

EXPECTED: dict[str, dict[str, str]] = {
    "create_unconfirmed": {
        "zh": HEAD["zh"] + "提交任务时与 IMA 的连接中断了\n" + UNKNOWN["zh"],
        "en": HEAD["en"] + "The connection to IMA broke while your task was being submitted\n" + UNKNOWN["en"],
    },
    "create_timed_out": {
        "zh": HEAD["zh"] + "提交任务后 IMA 没有及时回复\n" + UNKNOWN["zh"],
        "en": HEAD["en"] + "IMA did not answer in time after your task was submitted\n" + UNKNOWN["en"],
    },
    "upload_refused": {
        "zh": HEAD["zh"] + "上传服务器拒收了你的文件，请稍后重新发送\n" + NOTHING["zh"],
        "en": HEAD["en"] + "The upload server refused your file; please send it again in a moment\n" + NOTHING["en"],
    },
    "task_not_found": {
        "zh": HEAD["zh"] + "IMA 查不到这个任务了\n" + CREATED["zh"],
        "en": HEAD["en"] + "IMA can no longer find this task\n" + CREATED["en"],
    },
    "poll_unreachable": {
        "zh": HEAD["zh"] + "等待结果时多次联系不上 IMA，无法得知任务状态\n" + CREATED["zh"],
        "en": HEAD["en"] + "I couldn't reach IMA repeatedly while waiting, so I can't tell how the task is doing\n" + CREATED["en"],
    },
    "unsafe_url": {
        "zh": HEAD["zh"] + "这个链接指向内网/本机地址，或不是公开的网页链接\n附件有问题，已在上传前停止。请修改后重新发送：\n"
              "• cat.png：链接指向内网/本机地址。只能使用公开的 http(s) 链接，或直接上传文件。\n" + NOTHING["zh"],
        "en": HEAD["en"] + "This link points to a private/local address, or isn't a public web link\nSome attachments can't be used, so I stopped before uploading anything. Please fix and resend:\n"
              "• cat.png: the link points to a private or local address. Use a public http(s) link, or attach the file directly.\n" + NOTHING["en"],
    },
}


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", list(CASES))
async def test_failure_text_is_exact_and_true_about_the_charge(
        name: str, language: str, sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink,
        tmp_path: Path) -> None:
    text, failure = await _run(CASES[name], language, sim, db, clock, sink, tmp_path)
    assert text == EXPECTED[name][language]
    if CASES[name].kind is not ErrorKind.UPLOAD_REFUSED:  # only a refused upload is safe to simply send again
        assert failure.actions == () and failure.alternatives == ()


async def test_after_a_charge_the_record_comes_before_any_paid_retry(
        sim: SimHarness, db: Database, clock: FakeClock, sink: RecordingSink) -> None:
    await sim.set_faults(["task:rs=2"])
    async with running_service(sim, db, clock, {Platform.CONSOLE: sink}) as service:
        job_id = await service.handle_message(conversation(), TEXTS["en"])
        assert job_id is not None
        job = await service.wait_for(job_id)
    assert job is not None and job.task_id
    (failure,) = sink.of_step(Step.FAILURE, job_id)
    lines = failure.text.splitlines()
    record = next(i for i, line in enumerate(lines) if line.startswith("🧾 The task was created"))
    alternatives = lines.index("• Try instead:")
    assert record < alternatives
    assert lines[-1] == "A new try is charged again; want me to retry with another model?"
