"""Which answer a message gives to the bot's pending question ("好的", "不用了", "用海螺吧", "2")."""

from __future__ import annotations

import re

from core.conversation.questions import Question, QuestionAnswer, QuestionKind
from core.intent import Answer, FollowUp, IntentKind, Understanding

ALL = "all"  # a cancel pick's "all of them"
_BARE_INDEX = re.compile(r"^\s*(?:第|#|no\.?\s*)?\s*(\d{1,2}|[一二三四五六七八九十])\s*(?:个|号|条)?\s*$",
                         re.IGNORECASE)
_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}


def index_in(text: str) -> int | None:
    match = _BARE_INDEX.match(text)
    if match is None:
        return None
    raw = match.group(1)
    return int(raw) if raw.isdigit() else _CN_DIGITS.get(raw)


def answer_for(question: Question, u: Understanding, text: str) -> QuestionAnswer | None:
    """The answer a message gives to the pending ``question``, or None when it is something else."""
    said_no = u.answer is Answer.NO and u.intent is not IntentKind.CANCEL
    if question.kind is QuestionKind.CANCEL_PICK:
        selector = u.cancel
        if selector is not None and selector.all:
            return QuestionAnswer(choice=ALL)
        index = (selector.index if selector is not None else None) or index_in(text)
        if index is not None:
            return QuestionAnswer(choice=str(index))
        return QuestionAnswer(yes=False) if said_no else None
    if question.kind is QuestionKind.RETRY_OFFER:
        if u.answer is Answer.YES:
            return QuestionAnswer(yes=True)
        if said_no:
            return QuestionAnswer(yes=False)
        if u.intent is IntentKind.GENERATE and u.follow_up is FollowUp.EDIT and u.model_id:
            return QuestionAnswer(yes=True, choice=u.model_id)  # "用海螺吧"
        return None
    if u.answer is not None:  # a confirmation: yes / no (a "取消" declines it)
        return QuestionAnswer(yes=u.answer is Answer.YES)
    return None
