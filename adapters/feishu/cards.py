"""Interactive card JSON (card schema 2.0) built from UX events.

Every card sets ``config.update_multi``: Feishu only shows a PATCH to everyone in the chat when the flag
is on both before and after the patch. Text comes from the event as plain text (never rewritten) and is
rendered with ``plain_text`` so user prompts cannot inject card markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.chat.actions import encode_action
from adapters.chat.texts import button_label
from core.errors import ErrorKind
from core.messages import Messages
from core.platform import ActionKind, Choice, Step, UxEvent
from core.types import Language

# Cards must stay under 30 KB; UX texts are short, this only guards against pathological prompts.
MAX_TEXT_CHARS = 6000
_TITLE_KEY = {
    Step.ACK: "feishu.card.title.ack",
    Step.PREGEN: "feishu.card.title.pregen",
    Step.PROGRESS: "feishu.card.title.progress",
    Step.SUCCESS: "feishu.card.title.success",
    Step.FAILURE: "feishu.card.title.failure",
}
_TEMPLATE = {Step.SUCCESS: "green", Step.FAILURE: "red"}
_BUTTON_STYLE = {ActionKind.RETRY: "primary", ActionKind.CANCEL: "danger", ActionKind.CONFIRM: "primary"}
ACTION_KEY = "action"  # the callback value carries the chat kit's action encoding under this key


def status_card(event: UxEvent, messages: Messages) -> dict[str, Any]:
    """Steps 0-2: one card patched in place. A cancel button is offered while the job runs."""
    elements: list[dict[str, Any]] = [_text(event.text)]
    if event.percent is not None:
        elements.append(_text(progress_bar(event.percent)))
    elements.extend(_buttons(event.job_id, event.actions, event.language, messages))
    step = event.step
    if step is Step.DONE:  # the final status: coloured like the outcome
        step = Step.SUCCESS if event.error_kind is None else Step.FAILURE
    return _card(messages.text(_TITLE_KEY.get(step, "feishu.card.title.progress"), event.language),
                 _TEMPLATE.get(step, "blue"), elements)


def failure_card(event: UxEvent, messages: Messages) -> dict[str, Any]:
    """Step 4: what went wrong, with the buttons that can help (retry, a faster model...)."""
    elements = [_text(event.text), *_buttons(event.job_id, event.actions, event.language, messages)]
    if event.error_kind is ErrorKind.CANCELLED:  # the user's own choice: no "it didn't work" headline
        return _card(messages.text("feishu.card.title.cancelled", event.language), "grey", elements)
    return _card(messages.text("feishu.card.title.failure", event.language), "red", elements)


def question_card(event: UxEvent, messages: Messages) -> dict[str, Any]:
    """A question with its answer buttons (each acting on its own target); words answer it too."""
    elements = [_text(event.text), *_choice_buttons(event.choices)]
    return _card(messages.text("feishu.card.title.question", event.language), "blue", elements)


def link_card(title: str, text: str, url: str, language: Language, messages: Messages) -> dict[str, Any]:
    """A result that cannot be shown inline (over the upload cap, or the upload failed)."""
    button = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": messages.text("chat.button.open", language)},
        "type": "primary",
        "behaviors": [{"type": "open_url", "default_url": url}],
    }
    return _card(title, "green", [_text(text), button])


def progress_bar(percent: int, width: int = 20) -> str:
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return "▓" * filled + "░" * (width - filled) + f" {percent}%"


def action_value(action: ActionKind, target_id: str) -> dict[str, str]:
    return {ACTION_KEY: encode_action(action, target_id)}


def _buttons(job_id: str, actions: Iterable[ActionKind], language: Language, messages: Messages
             ) -> list[dict[str, Any]]:
    return [
        {
            "tag": "button",
            "text": {"tag": "plain_text", "content": button_label(messages, action, language)},
            "type": _BUTTON_STYLE.get(action, "default"),
            "behaviors": [{"type": "callback", "value": action_value(action, job_id)}],
        }
        for action in actions
    ]


def _choice_buttons(choices: Iterable[Choice]) -> list[dict[str, Any]]:
    return [
        {
            "tag": "button",
            "text": {"tag": "plain_text", "content": choice.label},
            "type": _BUTTON_STYLE.get(choice.action, "default"),
            "behaviors": [{"type": "callback", "value": action_value(choice.action, choice.target_id)}],
        }
        for choice in choices
    ]


def _text(content: str) -> dict[str, Any]:
    if len(content) > MAX_TEXT_CHARS:
        content = content[: MAX_TEXT_CHARS - 1] + "…"
    return {"tag": "div", "text": {"tag": "plain_text", "content": content}}


def _card(title: str, template: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "config": {"update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": template},
        "body": {"elements": elements},
    }
