"""The classifier contract: nine intents, and what the conversation layer needs beside them."""

from __future__ import annotations

import dataclasses

import pytest

from core.catalog.models import ModelCatalog
from core.intent import (
    Answer,
    CancelSelector,
    FollowUp,
    IntentKind,
    PrefsAction,
    Understanding,
    understand,
)
from core.types import Attachment, AttachmentKind, Language, TaskType

CATALOG = ModelCatalog.load_default()
IMAGE = Attachment(AttachmentKind.IMAGE, "cat.png", "https://files.test/cat.png")


def _u(text: str, *attachments: Attachment) -> Understanding:
    return understand(text, attachments, catalog=CATALOG)


def test_the_nine_intents_are_exactly_these() -> None:
    assert [k.value for k in IntentKind] == [
        "generate", "help", "models", "status", "cancel", "prefs", "usage", "smalltalk", "unclear",
    ]  # fmt: skip


def test_understanding_is_frozen_and_only_generate_carries_a_request() -> None:
    asked = _u("进度怎么样了")
    with pytest.raises(dataclasses.FrozenInstanceError):
        asked.intent = IntentKind.GENERATE  # type: ignore[misc]
    assert asked.request is None and not asked.may_charge
    ordered = _u("用可灵生成10秒竖屏视频，一只猫在弹钢琴")
    assert ordered.may_charge and ordered.request is not None
    assert ordered.request.prompt == "一只猫在弹钢琴" and ordered.model_id == "kling-video-o1"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("你能做什么", IntentKind.HELP),
        ("help", IntentKind.HELP),
        ("有哪些模型", IntentKind.MODELS),
        ("进度怎么样了", IntentKind.STATUS),
        ("how's it going?", IntentKind.STATUS),
        ("帮我查一下余额", IntentKind.USAGE),
        ("取消", IntentKind.CANCEL),
        ("cancel", IntentKind.CANCEL),
        ("你好", IntentKind.SMALLTALK),
        ("👍👍", IntentKind.SMALLTALK),
        ("视频", IntentKind.UNCLEAR),
        ("test", IntentKind.UNCLEAR),
        ("asdfghjkl", IntentKind.UNCLEAR),
        ("生成一个视频", IntentKind.UNCLEAR),
        ("", IntentKind.UNCLEAR),
    ],
)
def test_questions_and_chatter_are_never_orders(text: str, intent: IntentKind) -> None:
    understood = _u(text)
    assert understood.intent is intent
    assert not understood.may_charge


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("好的", Answer.YES),
        ("可以", Answer.YES),
        ("yes", Answer.YES),
        ("不用了", Answer.NO),
        ("no", Answer.NO),
    ],
)
def test_yes_and_no_words_answer_the_pending_question(text: str, answer: Answer) -> None:
    understood = _u(text)
    assert understood.answer is answer and not understood.may_charge


def test_a_named_model_answers_a_retry_offer() -> None:
    understood = _u("用海螺吧")
    assert understood.model_id == "MiniMax-Hailuo-2.3"
    assert understood.request is not None and understood.request.prompt == ""


@pytest.mark.parametrize(
    ("text", "follow_up"),
    [
        ("再来一个", FollowUp.AGAIN),
        ("again", FollowUp.AGAIN),
        ("和上次一样，但是竖屏", FollowUp.EDIT),
        ("换成可灵", FollowUp.EDIT),
        ("10秒", FollowUp.EDIT),
        ("继续", FollowUp.CONTINUE),
        ("接着拍", FollowUp.CONTINUE),
    ],
)
def test_follow_ups(text: str, follow_up: FollowUp) -> None:
    understood = _u(text)
    assert understood.intent is IntentKind.GENERATE
    assert understood.follow_up is follow_up


def test_an_edit_carries_its_changes() -> None:
    vertical = _u("和上次一样，但是竖屏")
    assert vertical.request is not None and vertical.request.params == {"aspect_ratio": "9:16"}
    kling = _u("换成可灵")
    assert kling.model_id == "kling-video-o1" and kling.prefs is PrefsAction.SET


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("现在默认用的哪个模型", PrefsAction.SHOW),
        ("以后视频都用可灵", PrefsAction.SET),
        ("把偏好删了", PrefsAction.CLEAR),
    ],
)
def test_preferences_by_words(text: str, action: PrefsAction) -> None:
    understood = _u(text)
    assert (understood.intent, understood.prefs) == (IntentKind.PREFS, action)


@pytest.mark.parametrize(
    ("text", "selector"),
    [
        ("取消", CancelSelector()),
        ("取消第2个", CancelSelector(index=2)),
        ("全部取消", CancelSelector(all=True)),
        ("cancel all", CancelSelector(all=True)),
        ("stop #3", CancelSelector(index=3)),
    ],
)
def test_cancel_selector(text: str, selector: CancelSelector) -> None:
    understood = _u(text)
    assert understood.intent is IntentKind.CANCEL and understood.cancel == selector


def test_models_questions_name_their_models_and_topic() -> None:
    compare = _u("可灵和海螺哪个好")
    assert compare.intent is IntentKind.MODELS and compare.models_query is not None
    assert compare.models_query.model_ids == ("kling-video-o1", "MiniMax-Hailuo-2.3")
    portraits = _u("which is best for portraits")
    assert portraits.models_query is not None and portraits.models_query.topic == "portraits"
    assert portraits.language is Language.EN


def test_cue_words_inside_a_real_request_do_not_change_it() -> None:
    assert _u("stop motion video of a clay dog walking").intent is IntentKind.GENERATE
    assert _u("生成一个视频：一个小孩对着镜头说谢谢").intent is IntentKind.GENERATE


def test_an_image_without_words_is_asked_about_not_guessed() -> None:
    # Feishu and Discord users often send the picture first and the instruction after it.
    assert _u("", IMAGE).intent is IntentKind.UNCLEAR


def test_an_image_with_an_instruction_is_a_request() -> None:
    understood = _u("让它动起来", IMAGE)
    assert understood.request is not None
    assert understood.request.task_type is TaskType.IMAGE_TO_VIDEO


def test_control_characters_and_lone_surrogates_do_not_break_it() -> None:
    understood = _u("一只猫\ud800在弹\x00钢琴")
    assert understood.request is not None and understood.request.prompt == "一只猫在弹钢琴"
