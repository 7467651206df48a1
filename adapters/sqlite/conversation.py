"""SQLite stores of the conversation layer: question memory (0010) and thread memory (0011)."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.conversation_rows import (
    QUESTION_COLUMNS,
    THREAD_COLUMNS,
    entry_from_row,
    question_from_row,
    question_values,
)
from adapters.sqlite.db import Database
from core.conversation.questions import Question, QuestionKind, QuestionState
from core.conversation.thread import DEFAULT_KEEP, ThreadEntry
from core.types import Platform

_Q_SELECT = f"SELECT {', '.join(QUESTION_COLUMNS)} FROM questions"
_Q_INSERT = (f"INSERT INTO questions ({', '.join(QUESTION_COLUMNS)}) "
             f"VALUES ({', '.join('?' for _ in QUESTION_COLUMNS)}) ON CONFLICT(question_id) DO NOTHING")


class SqliteQuestionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ask(self, question: Question) -> None:
        await self._db.conn.execute(_Q_INSERT, question_values(question))
        await self._db.conn.commit()

    async def get(self, question_id: str) -> Question | None:
        row = await self._db.first(f"{_Q_SELECT} WHERE question_id = ?", (question_id,))
        return question_from_row(row) if row is not None else None

    async def latest_open(self, platform: Platform, chat_id: str, user_id: str,
                          since: float) -> Question | None:
        sql = (f"{_Q_SELECT} WHERE platform = ? AND chat_id = ? AND user_id = ? AND state = 'open' "
               "AND asked_at >= ? ORDER BY asked_at DESC, rowid DESC LIMIT 1")
        row = await self._db.first(sql, (platform.value, chat_id, user_id, since))
        return question_from_row(row) if row is not None else None

    async def settle(self, question_id: str, state: QuestionState, answer: str | None = None) -> bool:
        sql = "UPDATE questions SET state = ?, answer = ? WHERE question_id = ? AND state = 'open'"
        return await self._db.change(sql, (state.value, answer, question_id)) == 1

    async def withdraw_open(self, platform: Platform, chat_id: str, user_id: str,
                            kinds: frozenset[QuestionKind] | None = None) -> int:
        sql = ("UPDATE questions SET state = 'withdrawn' WHERE platform = ? AND chat_id = ? AND user_id = ? "
               "AND state = 'open'")
        args: list[str] = [platform.value, chat_id, user_id]
        if kinds is not None:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            args.extend(sorted(k.value for k in kinds))
        return await self._db.change(sql, args)


_T_COLUMNS = THREAD_COLUMNS
_T_PRUNE = (
    "DELETE FROM thread_entries WHERE platform = ? AND chat_id = ? AND user_id = ? AND job_id NOT IN ("
    "SELECT job_id FROM thread_entries WHERE platform = ? AND chat_id = ? AND user_id = ? "
    "ORDER BY at DESC, rowid DESC LIMIT ?)"
)


class SqliteThreadStore:
    def __init__(self, db: Database, keep: int = DEFAULT_KEEP) -> None:
        self._db = db
        self._keep = max(1, keep)

    async def remember(self, entry: ThreadEntry) -> None:
        e = entry
        conn = self._db.conn
        await conn.execute(f"INSERT INTO thread_entries ({_T_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT(job_id) DO NOTHING",
                           (e.job_id, e.platform.value, e.chat_id, e.user_id, e.at))
        owner = (e.platform.value, e.chat_id, e.user_id)
        await conn.execute(_T_PRUNE, (*owner, *owner, self._keep))
        await conn.commit()

    async def recent(self, platform: Platform, chat_id: str, user_id: str | None, limit: int
                     ) -> Sequence[ThreadEntry]:
        sql = f"SELECT {_T_COLUMNS} FROM thread_entries WHERE platform = ? AND chat_id = ?"
        args: list[object] = [platform.value, chat_id]
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        sql += " ORDER BY at DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [entry_from_row(r) for r in await self._db.rows(sql, args)]

    async def recent_for_user(self, platform: Platform, user_id: str, limit: int) -> Sequence[ThreadEntry]:
        sql = (f"SELECT {_T_COLUMNS} FROM thread_entries WHERE platform = ? AND user_id = ? "
               "ORDER BY at DESC, rowid DESC LIMIT ?")
        return [entry_from_row(r) for r in await self._db.rows(sql, (platform.value, user_id, limit))]
