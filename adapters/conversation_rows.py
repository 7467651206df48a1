"""Rows of the conversation layer's tables (questions 0010, thread_entries 0011) and their values,
shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from typing import Any

from adapters.job_rows import Row
from core.conversation.questions import Question, QuestionKind, QuestionState
from core.conversation.thread import ThreadEntry
from core.types import Language, Platform

QUESTION_COLUMNS = ("question_id", "kind", "platform", "chat_id", "user_id", "language", "asked_at",
                    "expires_at", "subject_id", "options", "payload", "state", "answer")
THREAD_COLUMNS = "job_id, platform, chat_id, user_id, at"


def question_values(q: Question) -> tuple[Any, ...]:
    return (q.question_id, q.kind.value, q.platform.value, q.chat_id, q.user_id, q.language.value, q.asked_at,
            q.expires_at, q.subject_id, json.dumps(list(q.options), ensure_ascii=False),
            json.dumps(dict(q.payload), ensure_ascii=False), q.state.value, q.answer)


def question_from_row(row: Row) -> Question:
    return Question(
        question_id=row["question_id"], kind=QuestionKind(row["kind"]), platform=Platform(row["platform"]),
        chat_id=row["chat_id"], user_id=row["user_id"], language=Language(row["language"]),
        asked_at=float(row["asked_at"]), expires_at=float(row["expires_at"]), subject_id=row["subject_id"],
        options=tuple(json.loads(row["options"])), payload=json.loads(row["payload"]),
        state=QuestionState(row["state"]), answer=row["answer"])


def entry_from_row(row: Row) -> ThreadEntry:
    return ThreadEntry(platform=Platform(row["platform"]), chat_id=row["chat_id"], user_id=row["user_id"],
                       job_id=row["job_id"], at=float(row["at"]))
