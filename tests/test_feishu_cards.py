"""Card JSON: always multi-user updatable, plain text only, buttons that carry the job and action."""

from __future__ import annotations

import json

from adapters.chat.texts import chat_messages
from adapters.feishu import MESSAGES_PACKAGE
from adapters.feishu.cards import failure_card, link_card, progress_bar, status_card
from core.errors import ErrorKind
from core.platform import ActionKind, Slot, Step, UxEvent
from core.types import Conversation, Language, Platform

MESSAGES = chat_messages(None, MESSAGES_PACKAGE)
CONV = Conversation(platform=Platform.FEISHU, chat_id="oc", user_id="ou", message_id="om")


def event(step: Step, text: str = "t", **fields: object) -> UxEvent:
    slot = Slot.STATUS if step in (Step.ACK, Step.PREGEN, Step.PROGRESS, Step.DONE) else Slot.RESULT
    return UxEvent(job_id="j1", conversation=CONV, step=step, slot=slot, text=text,
                   language=Language.EN, **fields)  # type: ignore[arg-type]


def test_every_card_can_be_patched_for_everyone() -> None:
    cards = [status_card(event(step), MESSAGES) for step in (Step.ACK, Step.PREGEN, Step.PROGRESS, Step.DONE)]
    cards.append(failure_card(event(Step.FAILURE, actions=(ActionKind.RETRY,)), MESSAGES))
    cards.append(link_card("Done", "too big", "https://cdn.example/v.mp4", Language.EN, MESSAGES))
    assert all(card["config"]["update_multi"] is True and card["schema"] == "2.0" for card in cards)


def test_user_text_is_plain_text_not_markdown() -> None:
    card = status_card(event(Step.ACK, "**bold** <at id=all></at> [x](https://evil)"), MESSAGES)
    (element,) = card["body"]["elements"]
    assert element["text"] == {"tag": "plain_text", "content": "**bold** <at id=all></at> [x](https://evil)"}


def test_progress_card_shows_a_bar_and_a_cancel_button() -> None:
    card = status_card(event(Step.PROGRESS, "50%", percent=50, actions=(ActionKind.CANCEL,)), MESSAGES)
    texts = json.dumps(card, ensure_ascii=False)
    assert progress_bar(50) in texts and "50%" in progress_bar(50)
    button = card["body"]["elements"][-1]
    assert button["behaviors"] == [{"type": "callback", "value": {"action": "imabot:cancel:j1"}}]
    assert button["text"]["content"] == "Cancel"


def test_final_status_is_coloured_by_outcome() -> None:
    assert status_card(event(Step.DONE), MESSAGES)["header"]["template"] == "green"
    failed = status_card(event(Step.DONE, error_kind=ErrorKind.TIMEOUT), MESSAGES)
    assert failed["header"]["template"] == "red"


def test_a_cancelled_job_is_not_headed_as_a_failure() -> None:
    cancelled = failure_card(event(Step.FAILURE, error_kind=ErrorKind.CANCELLED), MESSAGES)
    assert cancelled["header"] == {"title": {"tag": "plain_text", "content": "Cancelled"}, "template": "grey"}
    failed = failure_card(event(Step.FAILURE, error_kind=ErrorKind.TIMEOUT), MESSAGES)
    assert failed["header"]["title"]["content"] == "It didn't work"


def test_huge_text_is_cut_to_stay_under_the_card_size_limit() -> None:
    card = status_card(event(Step.ACK, "x" * 50_000), MESSAGES)
    assert len(json.dumps(card).encode()) < 30 * 1024


def test_progress_bar_bounds() -> None:
    assert progress_bar(-5).endswith(" 0%") and progress_bar(140).endswith(" 100%")
