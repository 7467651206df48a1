# ruff: noqa: E501  (a table of exact user-facing strings reads better unwrapped)
"""Every error kind's user text, exactly, in zh and en (seeds 002/003 "Error Message Translation")."""

from __future__ import annotations

import re

import pytest

from core.errors import ErrorKind, ImaApiError, InputError
from core.media.preflight import PreflightError, VerificationError, Violation
from core.messages import Messages
from core.platform import ActionKind, Alternative
from core.types import Language, MediaType
from core.ux.error_text import Charge, error_detail, failure_actions, failure_text, reason_text

M = Messages.from_package()

# kind -> (zh, en) reason for a video task
VIDEO_REASONS: dict[ErrorKind, tuple[str, str]] = {
    ErrorKind.AUTH: ("密钥无效或未授权", "Your IMA key is invalid or unauthorized"),
    ErrorKind.INSUFFICIENT_POINTS: ("积分不足，无法创建任务", "Insufficient points to create this task"),
    ErrorKind.SUBSCRIPTION_REQUIRED: ("这个模型需要订阅会员才能使用", "This model requires a subscription"),
    ErrorKind.CREDIT_MISMATCH: ("积分计算异常，系统正在修复", "Points calculation error, system is fixing"),
    ErrorKind.NO_RULE: ("参数组合不匹配，自动调整后仍未成功，请换个模型试试",
                        "Parameter mismatch that auto-adjusting could not fix, try another model"),
    ErrorKind.ATTRIBUTE_MISMATCH: ("模型参数不匹配，请尝试其他模型", "Model parameters incompatible, try another model"),
    ErrorKind.BAD_PARAMS: ("视频参数设置有误，请调整时长或分辨率", "Video parameter error, adjust duration or resolution"),
    ErrorKind.RATE_LIMITED: ("请求过于频繁，请稍等片刻再试", "Too many requests, please wait a moment"),
    ErrorKind.UNAVAILABLE: ("当前模型暂时不可用，建议换个模型", "Model temporarily unavailable, try another model"),
    ErrorKind.SERVER_ERROR: ("视频生成遇到问题，请稍后重试或换个模型试试",
                             "Video generation encountered an issue, please try again or use another model"),
    ErrorKind.TIMEOUT: ("视频生成时间过长已超时，建议用更快的模型", "Video generation took too long, try a faster model"),
    ErrorKind.NETWORK: ("网络连接不稳定，请检查网络后重试", "Network connection unstable, check network and retry"),
    ErrorKind.PROTOCOL: ("视频生成遇到问题，请稍后重试或换个模型试试",
                         "Video generation encountered an issue, please try again or use another model"),
    ErrorKind.MEDIA_FAILED: ("视频生成遇到问题，建议换个模型试试", "Video generation failed, try another model"),
    ErrorKind.CONTENT_POLICY: ("提示词包含敏感内容，请修改后重试", "Prompt contains restricted content, please modify"),
    ErrorKind.DELETED: ("这次的作品已被删除，要不再试一次？", "This result was removed, want to try again?"),
    ErrorKind.UNKNOWN_MODEL: ("没有找到你说的模型，换个模型名试试？", "I couldn't find that model, try another name?"),
    ErrorKind.INVALID_INPUT: ("输入图片处理失败，请检查图片格式或换张图",
                              "Input image processing failed, check format or try another image"),
    ErrorKind.VERIFY_FAILED: ("素材没有通过内容检查，请换一个素材试试",
                              "Your media didn't pass the content check, try another file"),
    ErrorKind.MISSING_PROMPT: ("还不知道你想生成什么，请描述一下内容", "I don't know what to create yet, please describe it"),
    ErrorKind.CANCELLED: ("已按你的要求取消", "Cancelled as you asked"),
    ErrorKind.LOST: ("提交任务时机器人服务重启了", "The bot restarted while your task was being submitted"),
    ErrorKind.CREATE_UNCONFIRMED: ("提交任务时与 IMA 的连接中断了",
                                   "The connection to IMA broke while your task was being submitted"),
    ErrorKind.CREATE_TIMED_OUT: ("提交任务后 IMA 没有及时回复", "IMA did not answer in time after your task was submitted"),
    ErrorKind.UPLOAD_REFUSED: ("上传服务器拒收了你的文件，请稍后重新发送",
                               "The upload server refused your file; please send it again in a moment"),
    ErrorKind.TASK_NOT_FOUND: ("IMA 查不到这个任务了", "IMA can no longer find this task"),
    ErrorKind.POLL_UNREACHABLE: ("等待结果时多次联系不上 IMA，无法得知任务状态",
                                 "I couldn't reach IMA repeatedly while waiting, so I can't tell how the task is doing"),
    ErrorKind.UNSAFE_URL: ("这个链接指向内网/本机地址，或不是公开的网页链接",
                           "This link points to a private/local address, or isn't a public web link"),
    ErrorKind.VERIFY_PENDING: ("IMA 仍在审核你的素材，任务还没有创建；请过几分钟再发送一次",
                               "IMA is still checking your file, so no task was created yet; please send it again in a few minutes"),
    ErrorKind.STORE_UNAVAILABLE: ("机器人的数据库暂时无法写入", "The bot's database can't be written to right now"),
    ErrorKind.REFUSED: ("这个请求没有开始", "This request was not started"),
    ErrorKind.INTERNAL: ("视频生成遇到问题，请稍后重试或换个模型试试",
                         "Video generation encountered an issue, please try again or use another model"),
}


def test_every_error_kind_has_a_case() -> None:
    assert set(VIDEO_REASONS) == set(ErrorKind)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_reason_text_is_exact_in_both_languages(kind: ErrorKind) -> None:
    zh, en = VIDEO_REASONS[kind]
    assert reason_text(M, kind, MediaType.VIDEO, Language.ZH) == zh
    assert reason_text(M, kind, MediaType.VIDEO, Language.EN) == en


def test_media_specific_reasons_win_for_speech_and_generic_applies_to_images() -> None:
    assert reason_text(M, ErrorKind.MEDIA_FAILED, MediaType.SPEECH, Language.ZH) == "语音合成失败，建议换模型或缩短文本"
    assert reason_text(M, ErrorKind.BAD_PARAMS, MediaType.IMAGE, Language.EN) == (
        "Invalid request parameters, please try again")
    assert reason_text(M, ErrorKind.SERVER_ERROR, MediaType.IMAGE, Language.ZH) == "生成过程遇到问题，请稍后重试或换个模型试试"


def test_insufficient_points_failure_has_credit_link_and_alternatives_in_zh() -> None:
    alts = [Alternative("wan2.6-t2v", "Wan 2.6", 25), Alternative("MiniMax-Hailuo-02", "Hailuo 2.0", 5),
            Alternative("x", "Third", 1)]
    text = failure_text(M, ErrorKind.INSUFFICIENT_POINTS, MediaType.VIDEO, Language.ZH, alts)
    assert text == (
        "❌ 视频生成失败\n"
        "• 原因：积分不足，无法创建任务\n"
        "💡 购买积分: https://www.imaclaw.ai/imaclaw/subscription\n"
        "💰 没有扣除积分。\n"
        "• 建议改用：\n"
        "  - Wan 2.6（25 pts）\n"
        "  - Hailuo 2.0（5 pts）\n"
        "\n"
        "需要我帮你用其他模型重试吗？"
    )


def test_auth_failure_has_key_link_and_no_alternatives_in_en() -> None:
    text = failure_text(M, ErrorKind.AUTH, MediaType.IMAGE, Language.EN, [Alternative("a", "A", 3)])
    assert text == ("❌ Image generation failed\n• Reason: Your IMA key is invalid or unauthorized\n"
                    "💡 Generate a new key: https://www.imaclaw.ai/imaclaw/apikey\n💰 Nothing was charged.")


def test_timeout_points_to_the_creation_record() -> None:
    text = failure_text(M, ErrorKind.TIMEOUT, MediaType.VIDEO, Language.EN, [Alternative("v", "Vidu Q2", None)],
                        charge=Charge.CREATED, task_id="t-1", credits=40)
    assert "https://www.imastudio.com/ai-creation/text-to-video" in text
    assert text.index("creation record") < text.index("  - Vidu Q2")


def test_actions_offer_retry_only_when_it_can_help() -> None:
    assert failure_actions(ErrorKind.AUTH, has_faster=True) == ()
    assert failure_actions(ErrorKind.LOST, has_faster=True) == ()
    assert failure_actions(ErrorKind.TIMEOUT, has_faster=True) == (ActionKind.RETRY, ActionKind.FASTER)
    assert failure_actions(ErrorKind.NETWORK, has_faster=True) == (ActionKind.RETRY,)


_FORBIDDEN = re.compile(r"\b(API|HTTP|attribute_id|model_version|form_config|script|4008|401|4014|6006|6009|6010)\b"
                        r"|\.py\b|脚本|接口", re.IGNORECASE)


@pytest.mark.parametrize("kind", list(ErrorKind))
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("media", list(MediaType))
def test_no_technical_words_reach_users(kind: ErrorKind, language: Language, media: MediaType) -> None:
    text = failure_text(M, kind, media, language, [Alternative("m", "Model", 5)])
    # links are allowed to contain "apikey"; the words around them are not technical
    assert not _FORBIDDEN.search(text.replace("imaclaw/apikey", "")), text


def test_refused_files_are_listed_under_the_reason() -> None:
    exc = PreflightError([Violation("clip.mp4", "duration", "40 s", "2–15 s", "media.fix.trim")])
    detail = error_detail(M, exc, Language.EN)
    assert detail is not None and "clip.mp4" in detail and "40 s" in detail


def test_an_unoffered_option_names_the_valid_choices() -> None:
    exc = InputError("virtual", code="virtual_value",
                     params={"field": "quality", "value": "4K", "options": "720p, 1080p"})
    assert error_detail(M, exc, Language.ZH) == "这个模型的 quality 不支持 4K，可选：720p, 1080p"


def test_refused_media_of_either_kind_gets_its_list_and_other_input_errors_none() -> None:
    refused = PreflightError([Violation("a.mp4", "fps", "12.00", "24–60", "media.fix.fps")])
    assert "a.mp4" in (error_detail(M, refused, Language.EN) or "")
    failed = VerificationError([Violation("b.png", "compliance", "failed", "active", "media.fix.compliance")])
    assert (error_detail(M, failed, Language.ZH) or "").startswith("素材未通过")
    assert error_detail(M, InputError("other"), Language.EN) is None


def test_errors_without_specifics_add_no_detail_line() -> None:
    assert error_detail(M, ImaApiError("boom", kind=ErrorKind.SERVER_ERROR, code=500), Language.EN) is None


def test_a_cancellation_is_not_announced_as_a_failure() -> None:
    text = failure_text(M, ErrorKind.CANCELLED, MediaType.VIDEO, Language.ZH)
    assert text.splitlines()[0] == "🛑 已按你的要求取消"
    assert "失败" not in text and "原因" not in text
    assert "没有扣除积分" in text
    after = failure_text(M, ErrorKind.CANCELLED, MediaType.VIDEO, Language.ZH, charge=Charge.CREATED, task_id="t9",
                         credits=40)
    assert "任务已创建（ID：t9），已扣除 40 积分" in after
