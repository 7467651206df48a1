from __future__ import annotations

from dataclasses import replace

from core.errors import ErrorKind
from core.jobs import Job, JobState
from core.messages import Messages
from core.platform import ActionKind, Alternative, Slot, Step
from core.request import GenerationRequest
from core.types import Attachment, AttachmentKind, Language, MediaResult, MediaType, TaskType
from core.ux.renderer import UxRenderer, progress_percent
from tests.support.conversations import conversation

UX = UxRenderer(Messages.from_package())


def video_job(language: Language = Language.ZH) -> Job:
    request = GenerationRequest(MediaType.VIDEO, TaskType.TEXT_TO_VIDEO, "a cat", language)
    return Job(job_id="j", idempotency_key="k", conversation=conversation(), request=request,
               state=JobState.RUNNING, created_at=0.0, updated_at=0.0, model_id="kling-video-o1",
               model_name="Kling O1", credits=48, eta_s=(180, 360), submitted_at=1000.0,
               message_refs={"status": "msg-1"})


def test_progress_formula_examples_from_the_seed() -> None:
    assert progress_percent(120, 180) == 66
    assert progress_percent(200, 180) == 95
    assert progress_percent(0, 180) == 0
    assert progress_percent(171, 180) == 95


def test_progress_event_edits_the_status_message_and_freezes_at_95_with_almost_there() -> None:
    job = video_job()
    early = UX.progress(job, now=1000.0 + 120)
    assert (early.step, early.slot, early.message_ref) == (Step.PROGRESS, Slot.STATUS, "msg-1")
    assert early.percent == 33
    assert early.text.endswith("⏳ 视频生成中… 33%\n已等待 120s，预计最长 360s")
    late = UX.progress(job, now=1000.0 + 400)
    assert late.percent == 95
    assert late.text.endswith("⏳ 视频生成中… 95%\n已等待 400s，预计最长 360s 快了，稍等一下…")
    en = UX.progress(video_job(Language.EN), now=1000.0 + 400)
    assert en.text.endswith("95%\n400s elapsed, up to 360s expected almost there…")
    assert ActionKind.CANCEL in late.actions


def test_pregen_names_model_eta_in_seconds_and_minutes_credits_and_video_note() -> None:
    event = UX.pregen(video_job())
    assert event.text.splitlines() == [
        "🎬 开始生成视频，请稍候…", "• 模型：Kling O1", "• 预计耗时：180 ~ 360 秒（约 3 ~ 6 分钟）",
        "• 消耗积分：48 pts", "", "视频生成需要一定时间，我会每隔一段时间汇报进度 🙏"]
    assert (event.step, event.slot) == (Step.PREGEN, Slot.STATUS)


def test_success_sends_media_first_then_the_link() -> None:
    job = replace(video_job(Language.EN), state=JobState.DONE, finished_at=1000.0 + 200,
                  result=(MediaResult("https://cdn/v.mp4", MediaType.VIDEO, cover_url="https://cdn/c.jpg"),),
                  hints=("💡 hint",))
    media, link = UX.success(job, (ActionKind.RETRY,))
    assert media.media[0].url == "https://cdn/v.mp4" and media.media[0].cover_url == "https://cdn/c.jpg"
    assert media.text == ("✅ Your video is ready!\n• Model: Kling O1\n"
                          "• Time: estimated 180~360s, actual 200s\n• Credits: 48 pts\n\n💡 hint")
    assert link.text == "🔗 Video link (copy & share):\nhttps://cdn/v.mp4"
    assert media.slot is link.slot is Slot.RESULT
    assert media.message_ref is None


def test_failure_event_carries_kind_alternatives_and_actions() -> None:
    job = replace(video_job(), state=JobState.TIMED_OUT, error_kind=ErrorKind.TIMEOUT)
    alts = [Alternative("viduq2", "Vidu Q2", 5), Alternative("MiniMax-Hailuo-02", "Hailuo 2.0", 12)]
    event = UX.failure(job, alts, has_faster=True)
    assert event.error_kind is ErrorKind.TIMEOUT and event.slot is Slot.RESULT
    assert event.alternatives == tuple(alts)
    assert event.actions == (ActionKind.RETRY, ActionKind.FASTER)
    assert "Vidu Q2（5 pts）" in event.text


def test_done_rewrites_the_status_message_with_the_outcome() -> None:
    job = replace(video_job(), state=JobState.DONE, finished_at=1000.0 + 95)
    event = UX.done(job)
    assert (event.step, event.slot, event.message_ref) == (Step.DONE, Slot.STATUS, "msg-1")
    assert event.text.endswith("✅ 已完成，用时 95s")


def test_short_of_points_only_cheaper_models_are_suggested() -> None:
    job = replace(video_job(Language.EN), state=JobState.FAILED, error_kind=ErrorKind.INSUFFICIENT_POINTS)
    alts = [Alternative("MiniMax-Hailuo-02", "Hailuo 2.0", 12), Alternative("sora-2-pro", "Sora 2 Pro", 120),
            Alternative("unknown-price", "Mystery", None)]
    event = UX.failure(job, alts, has_faster=False)
    assert event.alternatives == (alts[0],)
    assert "Hailuo 2.0 (12 pts)" in event.text and "Sora" not in event.text and "Mystery" not in event.text
    assert "https://www.imaclaw.ai/imaclaw/subscription" in event.text


def test_a_refused_video_or_audio_is_not_called_an_image() -> None:
    clip = Attachment(AttachmentKind.VIDEO, "clip.mp4", "/tmp/clip.mp4")
    picture = Attachment(AttachmentKind.IMAGE, "cat.png", "/tmp/cat.png")
    base = replace(video_job(), state=JobState.FAILED, error_kind=ErrorKind.INVALID_INPUT)
    with_video = replace(base, request=replace(base.request, attachments=(picture, clip)))
    only_image = replace(base, request=replace(base.request, attachments=(picture,)))
    assert UX.failure(with_video, [], has_faster=False).text.splitlines()[1] == (
        "• 原因：输入素材处理失败，请检查格式或换一个文件")
    assert UX.failure(only_image, [], has_faster=False).text.splitlines()[1] == (
        "• 原因：输入图片处理失败，请检查图片格式或换张图")
