"""Question memory: the question the bot last asked a user in a chat, durable and with an expiry.

The bot asks three kinds of questions: a retry offer after a failure, a confirmation before a spend
(asked by ``core.spend``), and a pick among several running jobs to cancel. A question belongs to
exactly one user in one chat: only that user's words (or button clicks) answer it. Words answer the
latest open question of that user and chat; a button names its question by id. Answering is atomic:
``QuestionStore.settle`` succeeds once, so a double click or a redelivered message acts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from core.types import Conversation, Language, Platform

DEFAULT_TTL_S = 600.0  # a pending question lives 10 minutes unless its asker says otherwise
LOOKBACK_S = 24 * 3600.0  # words answer only questions asked this recently (an expired one says so)


class QuestionKind(StrEnum):
    RETRY_OFFER = "retry_offer"  # "retry with another model?" after a failure; subject = the failed job
    CONFIRMATION = "confirmation"  # spend: "this costs N pts, go ahead?"; subject and payload are spend's
    CANCEL_PICK = "cancel_pick"  # "which one?"; options = the running job ids, in the order listed


class QuestionState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"  # superseded (a new request) or no longer meaningful


@dataclass(frozen=True, slots=True)
class Question:
    question_id: str
    kind: QuestionKind
    platform: Platform
    chat_id: str
    user_id: str
    language: Language
    asked_at: float
    expires_at: float
    subject_id: str = ""  # what the question is about (usually a job id)
    options: tuple[str, ...] = ()  # ordered choices (job ids to cancel, model ids to retry with)
    payload: Mapping[str, Any] = field(default_factory=dict)  # JSON-able data owned by the asker
    state: QuestionState = QuestionState.OPEN
    answer: str | None = None  # what settled it ("yes", "no", a choice)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def asked_by(self, conversation: Conversation) -> bool:
        """True when ``conversation`` is the asked user in the asked chat (only they may answer)."""
        return (conversation.platform, conversation.chat_id, conversation.user_id) == (
            self.platform, self.chat_id, self.user_id)


class QuestionStore(Protocol):
    async def ask(self, question: Question) -> None:
        """Remember ``question`` (a new id; an existing id is left as it is)."""
        ...

    async def get(self, question_id: str) -> Question | None: ...

    async def latest_open(self, platform: Platform, chat_id: str, user_id: str,
                          since: float) -> Question | None:
        """The most recently asked OPEN question of this user in this chat asked at or after ``since``
        (expired ones included: the caller tells the user it expired)."""
        ...

    async def settle(self, question_id: str, state: QuestionState, answer: str | None = None) -> bool:
        """Move an OPEN question to ``state``; True only for the one caller that did it."""
        ...

    async def withdraw_open(self, platform: Platform, chat_id: str, user_id: str,
                            kinds: frozenset[QuestionKind] | None = None) -> int:
        """Withdraw every OPEN question of this user and chat (of ``kinds``); returns how many."""
        ...


# ---------------------------------------------------------------- answering


@dataclass(frozen=True, slots=True)
class QuestionAnswer:
    """What the user answered: yes / no, or one of the question's options (or a model they named)."""

    yes: bool | None = None
    choice: str | None = None

    def describe(self) -> str:
        if self.choice is not None:
            return self.choice
        return "yes" if self.yes else "no"
