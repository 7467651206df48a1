"""``QuestionDesk``: ask a question, and route its answer (words or a button) to the one who asked.

Each question kind has one handler (``AnswerHandler``): the conversation layer handles retry offers
and cancel picks, ``core.spend`` registers its confirmation handler. The desk does the checks every
kind shares, once: only the asker answers, an expired question says so, a settled one acts once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.clock import Clock
from core.conversation.questions import (
    DEFAULT_TTL_S,
    LOOKBACK_S,
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionState,
    QuestionStore,
)
from core.messages import Messages
from core.platform import ActionOutcome, ActionReply
from core.types import Conversation, Language


class AnswerHandler(Protocol):
    async def on_answer(self, question: Question, answer: QuestionAnswer, conversation: Conversation
                        ) -> ActionReply:
        """Act on a settled question. ``ActionOutcome.STARTED`` means a job's own messages say what
        happens next; any other reply's text is shown to the user."""
        ...


class QuestionDesk:
    def __init__(self, store: QuestionStore, clock: Clock, messages: Messages, *,
                 ttl_s: float = DEFAULT_TTL_S) -> None:
        self._store = store
        self._clock = clock
        self._m = messages
        self._ttl_s = ttl_s
        self._handlers: dict[QuestionKind, AnswerHandler] = {}

    @property
    def store(self) -> QuestionStore:
        return self._store

    def handle(self, kind: QuestionKind, handler: AnswerHandler) -> None:
        """Register the handler of ``kind`` (one per kind; the last registration wins)."""
        self._handlers[kind] = handler

    async def ask(self, conversation: Conversation, kind: QuestionKind, language: Language, *,
                  subject_id: str = "", options: Sequence[str] = (), payload: Mapping[str, Any] | None = None,
                  ttl_s: float | None = None) -> Question:
        """Remember a question to ``conversation``'s user in its chat. Earlier open questions of the
        same kind there are withdrawn: words answer the newest one only."""
        now = self._clock.now()
        await self._store.withdraw_open(conversation.platform, conversation.chat_id, conversation.user_id,
                                        frozenset({kind}))
        question = Question(
            question_id=f"q{int(now)}{secrets.token_hex(4)}", kind=kind, platform=conversation.platform,
            chat_id=conversation.chat_id, user_id=conversation.user_id, language=language, asked_at=now,
            expires_at=now + (self._ttl_s if ttl_s is None else ttl_s), subject_id=subject_id,
            options=tuple(options), payload=dict(payload or {}))
        await self._store.ask(question)
        return question

    async def pending(self, conversation: Conversation) -> Question | None:
        """The newest open question to this user in this chat (possibly expired)."""
        since = self._clock.now() - max(LOOKBACK_S, self._ttl_s)
        return await self._store.latest_open(conversation.platform, conversation.chat_id,
                                             conversation.user_id, since)

    async def get(self, question_id: str) -> Question | None:
        return await self._store.get(question_id)

    async def withdraw(self, conversation: Conversation,
                       kinds: frozenset[QuestionKind] | None = None) -> None:
        await self._store.withdraw_open(conversation.platform, conversation.chat_id, conversation.user_id,
                                        kinds)

    async def answer(self, question: Question, answer: QuestionAnswer, conversation: Conversation
                     ) -> ActionReply:
        lang = question.language
        if not question.asked_by(conversation):
            return ActionReply(ActionOutcome.NOT_OWNER, self._m.text("conversation.question.not_yours", lang))
        if question.state is not QuestionState.OPEN:
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._m.text("conversation.question.settled", lang))
        if question.expired(self._clock.now()):
            await self._store.settle(question.question_id, QuestionState.WITHDRAWN, "expired")
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._m.text("conversation.question.expired", lang))
        if not await self._store.settle(question.question_id, QuestionState.ANSWERED, answer.describe()):
            return ActionReply(ActionOutcome.NOT_ALLOWED, self._m.text("conversation.question.settled", lang))
        handler = self._handlers.get(question.kind)
        if handler is None:
            return ActionReply(ActionOutcome.NOT_FOUND, self._m.text("conversation.question.settled", lang))
        return await handler.on_answer(question, answer, conversation)
