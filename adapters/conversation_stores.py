"""The conversation layer's stores, question memory (0010) and thread memory (0011), once for both
backends: their statements are written once and rendered in the database's dialect
(``MigratedDatabase.render``). A question is settled once, even when two replicas get the answer."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.conversation_rows import (
    QUESTION_COLUMNS,
    THREAD_COLUMNS,
    entry_from_row,
    question_from_row,
    question_values,
)
from adapters.storebase import MigratedDatabase
from core.conversation.questions import Question, QuestionKind, QuestionState
from core.conversation.thread import DEFAULT_KEEP, ThreadEntry
from core.types import Platform

_Q_SELECT = f"SELECT {', '.join(QUESTION_COLUMNS)} FROM questions"
_WITHDRAW = ("UPDATE questions SET state = 'withdrawn' WHERE platform = ? AND chat_id = ? AND user_id = ? "
             "AND state = 'open'")
_QUESTIONS = {
    "ask": f"INSERT INTO questions ({', '.join(QUESTION_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in QUESTION_COLUMNS)}) ON CONFLICT (question_id) DO NOTHING",
    "get": f"{_Q_SELECT} WHERE question_id = ?",
    "latest_open": f"{_Q_SELECT} WHERE platform = ? AND chat_id = ? AND user_id = ? AND state = 'open' "
                   "AND asked_at >= ? ORDER BY asked_at DESC, {order} DESC LIMIT 1",
    "settle": "UPDATE questions SET state = ?, answer = ? WHERE question_id = ? AND state = 'open'",
}
_THREAD = {
    "remember": f"INSERT INTO thread_entries ({THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id) DO NOTHING",
    "prune": "DELETE FROM thread_entries WHERE platform = ? AND chat_id = ? AND user_id = ? "
             "AND job_id NOT IN (SELECT job_id FROM thread_entries WHERE platform = ? AND chat_id = ? "
             "AND user_id = ? ORDER BY at DESC, {order} DESC LIMIT ?)",
    "recent": f"SELECT {THREAD_COLUMNS} FROM thread_entries WHERE platform = ? AND chat_id = ?",
    "recent_user": f"SELECT {THREAD_COLUMNS} FROM thread_entries WHERE platform = ? AND chat_id = ? "
                   "AND user_id = ?",
    "recent_for_user": f"SELECT {THREAD_COLUMNS} FROM thread_entries WHERE platform = ? AND user_id = ?",
    "newest": " ORDER BY at DESC, {order} DESC LIMIT ?",
}


class SqlQuestionStore:
    def __init__(self, db: MigratedDatabase) -> None:
        self._db = db
        self._sql = {name: db.render(text) for name, text in _QUESTIONS.items()}

    async def ask(self, question: Question) -> None:
        await self._db.writes((self._sql["ask"], question_values(question)))

    async def get(self, question_id: str) -> Question | None:
        async with self._db.session() as s:
            row = await s.fetch_one(self._sql["get"], (question_id,))
        return question_from_row(row) if row is not None else None

    async def latest_open(self, platform: Platform, chat_id: str, user_id: str,
                          since: float) -> Question | None:
        async with self._db.session() as s:
            row = await s.fetch_one(self._sql["latest_open"], (platform.value, chat_id, user_id, since))
        return question_from_row(row) if row is not None else None

    async def settle(self, question_id: str, state: QuestionState, answer: str | None = None) -> bool:
        (settled,) = await self._db.writes((self._sql["settle"], (state.value, answer, question_id)))
        return settled == 1

    async def withdraw_open(self, platform: Platform, chat_id: str, user_id: str,
                            kinds: frozenset[QuestionKind] | None = None) -> int:
        sql, args = _WITHDRAW, [platform.value, chat_id, user_id]
        if kinds is not None:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            args.extend(sorted(k.value for k in kinds))
        (withdrawn,) = await self._db.writes((self._db.render(sql), args))
        return withdrawn


class SqlThreadStore:
    def __init__(self, db: MigratedDatabase, keep: int = DEFAULT_KEEP) -> None:
        self._db = db
        self._keep = max(1, keep)
        self._sql = {name: db.render(text) for name, text in _THREAD.items()}

    async def remember(self, entry: ThreadEntry) -> None:
        e = entry
        owner = (e.platform.value, e.chat_id, e.user_id)
        await self._db.writes((self._sql["remember"], (e.job_id, *owner, e.at)),
                              (self._sql["prune"], (*owner, *owner, self._keep)))

    async def recent(self, platform: Platform, chat_id: str, user_id: str | None, limit: int
                     ) -> Sequence[ThreadEntry]:
        sql, args = self._sql["recent"], [platform.value, chat_id, limit]
        if user_id is not None:
            sql, args = self._sql["recent_user"], [platform.value, chat_id, user_id, limit]
        async with self._db.session() as s:
            rows = await s.fetch_all(sql + self._sql["newest"], args)
        return [entry_from_row(r) for r in rows]

    async def recent_for_user(self, platform: Platform, user_id: str, limit: int) -> Sequence[ThreadEntry]:
        async with self._db.session() as s:
            rows = await s.fetch_all(self._sql["recent_for_user"] + self._sql["newest"],
                                     (platform.value, user_id, limit))
        return [entry_from_row(r) for r in rows]
