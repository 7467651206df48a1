"""SQLite implementations of the small spend stores: named settings, confirmations, users' keys
(tables from migrations 0021-0023)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite

from adapters.sqlite.db import Database
from core.spend.ports import Confirmation, ConfirmState, Owner, StoredKey


class SpendStatements:
    """What the spend stores share: one committed statement, or its rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _run(self, sql: str, args: Sequence[Any]) -> int:
        return await self._db.change(sql, args)

    async def _rows(self, sql: str, args: Sequence[Any]) -> list[aiosqlite.Row]:
        return await self._db.rows(sql, args)

    async def _lookup(self, sql: str, args: Sequence[Any]) -> list[aiosqlite.Row]:
        return await self._db.lookup(sql, args)

    async def _scalar(self, sql: str, args: Sequence[Any]) -> Any:
        rows = await self._rows(sql, args)
        return rows[0][0] if rows else None


class SqliteSpendSettings(SpendStatements):
    async def values(self, scope: str, subject: str) -> Mapping[str, str]:
        rows = await self._lookup(
            "SELECT name, value FROM spend_settings WHERE scope = ? AND subject = ?", (scope, subject)
        )
        return {r["name"]: r["value"] for r in rows}

    async def put(self, scope: str, subject: str, name: str, value: str | None) -> None:
        if value is None:
            await self._run(
                "DELETE FROM spend_settings WHERE scope = ? AND subject = ? AND name = ?",
                (scope, subject, name),
            )
            return
        await self._run(
            "INSERT INTO spend_settings (scope, subject, name, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(scope, subject, name) DO UPDATE SET value = excluded.value",
            (scope, subject, name, value),
        )

    async def put_once(self, scope: str, subject: str, name: str, value: str) -> bool:
        changed = await self._run(
            "INSERT INTO spend_settings (scope, subject, name, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(scope, subject, name) DO NOTHING",
            (scope, subject, name, value),
        )
        return changed == 1


_CONFIRM_COLUMNS = (
    "job_id, platform, user_id, chat_id, space_id, points, reasons, asked_at, expires_at, state"
)


def _confirmation(row: aiosqlite.Row) -> Confirmation:
    return Confirmation(
        job_id=row["job_id"],
        owner=Owner(row["platform"], row["user_id"], row["chat_id"], row["space_id"]),
        points=int(row["points"]),
        reasons=tuple(json.loads(row["reasons"])),
        asked_at=float(row["asked_at"]),
        expires_at=float(row["expires_at"]),
        state=ConfirmState(row["state"]),
    )


class SqliteConfirmationStore(SpendStatements):
    async def ask(self, confirmation: Confirmation) -> None:
        c, o = confirmation, confirmation.owner
        await self._run(
            f"INSERT OR REPLACE INTO spend_confirmations ({_CONFIRM_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                c.job_id,
                o.platform,
                o.user_id,
                o.chat_id,
                o.space_id,
                c.points,
                json.dumps(list(c.reasons), ensure_ascii=False),
                c.asked_at,
                c.expires_at,
                c.state.value,
            ),
        )

    async def get(self, job_id: str) -> Confirmation | None:
        rows = await self._lookup(
            f"SELECT {_CONFIRM_COLUMNS} FROM spend_confirmations WHERE job_id = ?", (job_id,)
        )
        return _confirmation(rows[0]) if rows else None

    async def latest_pending(self, platform: str, user_id: str, chat_id: str) -> Confirmation | None:
        rows = await self._lookup(
            f"SELECT {_CONFIRM_COLUMNS} FROM spend_confirmations WHERE platform = ? AND user_id = ? "
            "AND chat_id = ? AND state = 'pending' ORDER BY asked_at DESC LIMIT 1",
            (platform, user_id, chat_id),
        )
        return _confirmation(rows[0]) if rows else None

    async def answer(self, job_id: str, state: ConfirmState) -> bool:
        return (
            await self._run(
                "UPDATE spend_confirmations SET state = ? WHERE job_id = ? AND state = 'pending'",
                (state.value, job_id),
            )
            == 1
        )

    async def expired(self, now: float) -> Sequence[Confirmation]:
        rows = await self._lookup(
            f"SELECT {_CONFIRM_COLUMNS} FROM spend_confirmations WHERE state = 'pending' "
            "AND expires_at <= ? ORDER BY expires_at",
            (now,),
        )
        return [_confirmation(r) for r in rows]


class SqliteUserKeyStore(SpendStatements):
    async def get(self, platform: str, user_id: str) -> StoredKey | None:
        rows = await self._lookup(
            "SELECT ciphertext, last4, linked_at, invalid FROM user_keys WHERE platform = ? AND user_id = ?",
            (platform, user_id),
        )
        if not rows:
            return None
        r = rows[0]
        return StoredKey(
            ciphertext=r["ciphertext"],
            last4=r["last4"],
            linked_at=float(r["linked_at"]),
            invalid=bool(r["invalid"]),
        )

    async def put(self, platform: str, user_id: str, key: StoredKey) -> None:
        await self._run(
            "INSERT OR REPLACE INTO user_keys (platform, user_id, ciphertext, last4, linked_at, invalid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (platform, user_id, key.ciphertext, key.last4, key.linked_at, int(key.invalid)),
        )

    async def remove(self, platform: str, user_id: str) -> bool:
        return (
            await self._run("DELETE FROM user_keys WHERE platform = ? AND user_id = ?", (platform, user_id))
            == 1
        )

    async def mark_invalid(self, platform: str, user_id: str) -> bool:
        return (
            await self._run(
                "UPDATE user_keys SET invalid = 1 WHERE platform = ? AND user_id = ? AND invalid = 0",
                (platform, user_id),
            )
            == 1
        )
