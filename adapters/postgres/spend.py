"""PostgreSQL spend stores (ledger, named settings, confirmations, users' keys; migrations 0020-0023).

The statements are the SQLite stores' own (``?`` placeholders become ``%s``); what differs is how a
check-and-change stays atomic when several replicas run it at once: each write runs in a transaction
that first takes one advisory lock, so two replicas can never both pass a cap or a budget (under READ
COMMITTED an ``INSERT ... SELECT ... WHERE count < cap`` alone would let both through). Spend writes are
a few per job, so one lock costs nothing measurable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapters.postgres.db import PostgresDatabase
from adapters.sqlite.ledger import SqliteLedger
from adapters.sqlite.ledger import _entry as ledger_entry
from adapters.sqlite.spend_settings import (
    SqliteConfirmationStore,
    SqliteSpendSettings,
    SqliteUserKeyStore,
)
from core.spend.ports import Confirmation, LedgerEntry, StoredKey

_SPEND_LOCK = 0x1AB0_5BE0  # pg_advisory_xact_lock key for spend check-and-change statements


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresStatements:
    """``SpendStatements`` on the pool: the same three helpers, serialised by the spend lock."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._pg = db

    async def _run(self, sql: str, args: Sequence[Any]) -> int:
        async with self._pg.connection() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SPEND_LOCK,))
            cur = await conn.execute(_pg(sql).encode(), tuple(args))
            return cur.rowcount

    async def _rows(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self._pg.connection() as conn:
            cur = await conn.execute(_pg(sql).encode(), tuple(args))
            return list(await cur.fetchall())

    async def _lookup(self, sql: str, args: Sequence[Any]) -> list[Any]:
        return await self._rows(sql, args)  # no second connection to spare: every read is a round trip

    async def _scalar(self, sql: str, args: Sequence[Any]) -> Any:
        rows = await self._rows(sql, args)
        return next(iter(rows[0].values())) if rows else None


class PostgresLedger(PostgresStatements, SqliteLedger):
    async def open_counts(self, platform: str, user_id: str) -> tuple[int, int]:
        rows = await self._rows(
            "SELECT COUNT(*) FILTER (WHERE state = 'held') AS held, "
            "COUNT(*) FILTER (WHERE state = 'waiting') AS waiting FROM spend_ledger "
            "WHERE platform = ? AND user_id = ?", (platform, user_id))
        return (int(rows[0]["held"]), int(rows[0]["waiting"])) if rows else (0, 0)

    async def entries(self, since: float, until: float) -> Sequence[LedgerEntry]:
        rows = await self._rows(f"{_LEDGER_SELECT} WHERE admitted_at >= ? AND admitted_at < ? ORDER BY seq",
                                (since, until))
        return [ledger_entry(r) for r in rows]

    async def get(self, job_id: str) -> LedgerEntry | None:
        rows = await self._rows(f"{_LEDGER_SELECT} WHERE job_id = ?", (job_id,))
        return ledger_entry(rows[0]) if rows else None


class PostgresSpendSettings(PostgresStatements, SqliteSpendSettings):
    pass


class PostgresConfirmationStore(PostgresStatements, SqliteConfirmationStore):
    async def ask(self, confirmation: Confirmation) -> None:
        c, o = confirmation, confirmation.owner
        await self._run(
            "INSERT INTO spend_confirmations (job_id, platform, user_id, chat_id, space_id, points, reasons, "
            "asked_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE "
            "SET platform = excluded.platform, user_id = excluded.user_id, chat_id = excluded.chat_id, "
            "space_id = excluded.space_id, points = excluded.points, reasons = excluded.reasons, "
            "asked_at = excluded.asked_at, expires_at = excluded.expires_at, state = excluded.state",
            (c.job_id, o.platform, o.user_id, o.chat_id, o.space_id, c.points,
             json.dumps(list(c.reasons), ensure_ascii=False), c.asked_at, c.expires_at, c.state.value))


class PostgresUserKeyStore(PostgresStatements, SqliteUserKeyStore):
    async def put(self, platform: str, user_id: str, key: StoredKey) -> None:
        await self._run(
            "INSERT INTO user_keys (platform, user_id, ciphertext, last4, linked_at, invalid) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, user_id) DO UPDATE SET "
            "ciphertext = excluded.ciphertext, last4 = excluded.last4, linked_at = excluded.linked_at, "
            "invalid = excluded.invalid",
            (platform, user_id, key.ciphertext, key.last4, key.linked_at, int(key.invalid)))


_LEDGER_SELECT = (
    "SELECT job_id, platform, user_id, chat_id, space_id, state, points, admitted_at, started_at, "
    "settled_at, failed, model_id FROM spend_ledger"
)

