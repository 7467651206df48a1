"""PostgreSQL stores of the conversation layer: question memory (0010) and thread memory (0011), with
the SQLite stores' semantics (a question is settled once, even when two replicas get the answer)."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.conversation_rows import (
    QUESTION_COLUMNS,
    THREAD_COLUMNS,
    entry_from_row,
    question_from_row,
    question_values,
)
from adapters.postgres.db import PostgresDatabase
from core.conversation.questions import Question, QuestionKind, QuestionState
from core.conversation.thread import DEFAULT_KEEP, ThreadEntry
from core.types import Platform

_Q_SELECT = f"SELECT {', '.join(QUESTION_COLUMNS)} FROM questions"
_Q_INSERT = (f"INSERT INTO questions ({', '.join(QUESTION_COLUMNS)}) "
             f"VALUES ({', '.join('%s' for _ in QUESTION_COLUMNS)}) ON CONFLICT (question_id) DO NOTHING")
_T_PRUNE = (
    "DELETE FROM thread_entries WHERE platform = %s AND chat_id = %s AND user_id = %s AND job_id NOT IN ("
    "SELECT job_id FROM thread_entries WHERE platform = %s AND chat_id = %s AND user_id = %s "
    "ORDER BY at DESC, seq DESC LIMIT %s)"
)


class PostgresQuestionStore:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def ask(self, question: Question) -> None:
        async with self._db.connection() as conn:
            await conn.execute(_Q_INSERT, question_values(question))

    async def get(self, question_id: str) -> Question | None:
        async with self._db.connection() as conn:
            cur = await conn.execute(f"{_Q_SELECT} WHERE question_id = %s", (question_id,))
            row = await cur.fetchone()
        return question_from_row(row) if row is not None else None

    async def latest_open(self, platform: Platform, chat_id: str, user_id: str,
                          since: float) -> Question | None:
        sql = (f"{_Q_SELECT} WHERE platform = %s AND chat_id = %s AND user_id = %s AND state = 'open' "
               "AND asked_at >= %s ORDER BY asked_at DESC, seq DESC LIMIT 1")
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (platform.value, chat_id, user_id, since))
            row = await cur.fetchone()
        return question_from_row(row) if row is not None else None

    async def settle(self, question_id: str, state: QuestionState, answer: str | None = None) -> bool:
        sql = "UPDATE questions SET state = %s, answer = %s WHERE question_id = %s AND state = 'open'"
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (state.value, answer, question_id))
            return cur.rowcount == 1

    async def withdraw_open(self, platform: Platform, chat_id: str, user_id: str,
                            kinds: frozenset[QuestionKind] | None = None) -> int:
        sql = ("UPDATE questions SET state = 'withdrawn' WHERE platform = %s AND chat_id = %s "
               "AND user_id = %s AND state = 'open'")
        args: list[object] = [platform.value, chat_id, user_id]
        if kinds is not None:
            sql += " AND kind = ANY(%s)"
            args.append(sorted(k.value for k in kinds))
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, args)
            return cur.rowcount


class PostgresThreadStore:
    def __init__(self, db: PostgresDatabase, keep: int = DEFAULT_KEEP) -> None:
        self._db = db
        self._keep = max(1, keep)

    async def remember(self, entry: ThreadEntry) -> None:
        e = entry
        owner = (e.platform.value, e.chat_id, e.user_id)
        async with self._db.connection() as conn:
            await conn.execute(f"INSERT INTO thread_entries ({THREAD_COLUMNS}) VALUES (%s, %s, %s, %s, %s) "
                               "ON CONFLICT (job_id) DO NOTHING",
                               (e.job_id, e.platform.value, e.chat_id, e.user_id, e.at))
            await conn.execute(_T_PRUNE, (*owner, *owner, self._keep))

    async def recent(self, platform: Platform, chat_id: str, user_id: str | None, limit: int
                     ) -> Sequence[ThreadEntry]:
        sql = f"SELECT {THREAD_COLUMNS} FROM thread_entries WHERE platform = %s AND chat_id = %s"
        args: list[object] = [platform.value, chat_id]
        if user_id is not None:
            sql += " AND user_id = %s"
            args.append(user_id)
        sql += " ORDER BY at DESC, seq DESC LIMIT %s"
        args.append(limit)
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, args)
            rows = await cur.fetchall()
        return [entry_from_row(r) for r in rows]

    async def recent_for_user(self, platform: Platform, user_id: str, limit: int) -> Sequence[ThreadEntry]:
        sql = (f"SELECT {THREAD_COLUMNS} FROM thread_entries WHERE platform = %s AND user_id = %s "
               "ORDER BY at DESC, seq DESC LIMIT %s")
        async with self._db.connection() as conn:
            cur = await conn.execute(sql, (platform.value, user_id, limit))
            rows = await cur.fetchall()
        return [entry_from_row(r) for r in rows]
