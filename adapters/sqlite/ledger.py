"""SQLite implementation of ``core.spend.ports.Ledger`` (table from migration 0020).

Every check-and-change is ONE SQL statement (an ``INSERT ... SELECT ... WHERE`` or an ``UPDATE ...
WHERE`` with sub-selects), so concurrent requests on the shared connection cannot both pass a cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from adapters.sqlite.spend_settings import SpendStatements
from core.spend.ports import (
    BudgetLimit,
    BudgetScope,
    LedgerEntry,
    LedgerState,
    Owner,
    StartResult,
    StartVerdict,
)

_OPEN = "('waiting', 'held')"
_COUNTED = "('held', 'settled')"
_SCOPE_MATCH = {
    "user": "platform = ? AND user_id = ?",
    "chat": "platform = ? AND chat_id = ?",
    "space": "platform = ? AND space_id = ?",
}
_ADMIT = (
    "INSERT INTO spend_ledger (job_id, platform, user_id, chat_id, space_id, state, admitted_at) "
    "SELECT ?, ?, ?, ?, ?, 'waiting', ? WHERE (SELECT COUNT(*) FROM spend_ledger "
    f"WHERE platform = ? AND user_id = ? AND state IN {_OPEN}) < ? ON CONFLICT(job_id) DO NOTHING"
)
_COLUMNS = (
    "job_id, platform, user_id, chat_id, space_id, state, points, admitted_at, started_at, settled_at, "
    "failed, model_id"
)


def _scope_args(scope: BudgetScope, owner: Owner) -> tuple[str, str | None]:
    subject = scope.subject
    value = owner.user_id if subject == "user" else owner.chat_id if subject == "chat" else owner.space_id
    return owner.platform, value


def _entry(row: aiosqlite.Row) -> LedgerEntry:
    return LedgerEntry(
        job_id=row["job_id"],
        owner=Owner(row["platform"], row["user_id"], row["chat_id"], row["space_id"]),
        state=LedgerState(row["state"]),
        points=int(row["points"]),
        admitted_at=float(row["admitted_at"]),
        started_at=row["started_at"],
        settled_at=row["settled_at"],
        failed=bool(row["failed"]),
        model_id=row["model_id"],
    )


class SqliteLedger(SpendStatements):
    async def admit(self, job_id: str, owner: Owner, now: float, max_open: int) -> bool:
        args = (
            job_id,
            owner.platform,
            owner.user_id,
            owner.chat_id,
            owner.space_id,
            now,
            owner.platform,
            owner.user_id,
            max_open,
        )
        if await self._run(_ADMIT, args) == 1:
            return True
        state = await self._scalar("SELECT state FROM spend_ledger WHERE job_id = ?", (job_id,))
        return state in (LedgerState.WAITING.value, LedgerState.HELD.value)

    async def at_gate(self, job_id: str) -> None:
        await self._run("UPDATE spend_ledger SET at_gate = 1 WHERE job_id = ?", (job_id,))

    async def ahead_of(self, job_id: str) -> int:
        sql = (
            "SELECT COUNT(*) FROM spend_ledger o JOIN spend_ledger me ON me.job_id = ? "
            "WHERE o.platform = me.platform AND o.user_id = me.user_id AND o.state = 'waiting' "
            "AND o.at_gate = 1 AND o.seq < me.seq"
        )
        return int(await self._scalar(sql, (job_id,)) or 0)

    async def try_start(
        self,
        job_id: str,
        points: int,
        model_id: str | None,
        now: float,
        running_cap: int,
        limits: Sequence[BudgetLimit],
    ) -> StartResult:
        me = await self.get(job_id)
        if me is None or me.state in (LedgerState.SETTLED, LedgerState.RELEASED):
            return StartResult(StartVerdict.GONE)
        if me.state is LedgerState.HELD:  # resumed after a restart: the reservation stands
            return StartResult(StartVerdict.STARTED)
        owner = me.owner
        conditions = [
            "job_id = ? AND state = 'waiting'",
            "(SELECT COUNT(*) FROM spend_ledger WHERE platform = ? AND user_id = ? AND state = 'held') < ?",
            "NOT EXISTS (SELECT 1 FROM spend_ledger o WHERE o.platform = ? AND o.user_id = ? "
            "AND o.state = 'waiting' AND o.at_gate = 1 "
            "AND o.seq < (SELECT seq FROM spend_ledger WHERE job_id = ?))",
        ]
        args: list[Any] = [
            job_id,
            owner.platform,
            owner.user_id,
            running_cap,
            owner.platform,
            owner.user_id,
            job_id,
        ]
        for limit in limits:
            conditions.append(
                f"(SELECT COALESCE(SUM(points), 0) FROM spend_ledger WHERE "
                f"{_SCOPE_MATCH[limit.scope.subject]} AND state IN {_COUNTED} "
                "AND started_at >= ?) + ? <= ?"
            )
            args.extend([*_scope_args(limit.scope, owner), limit.since, points, limit.limit])
        sql = (
            "UPDATE spend_ledger SET state = 'held', points = ?, model_id = ?, started_at = ? WHERE "
            + " AND ".join(conditions)
        )
        if await self._run(sql, [points, model_id, now, *args]) == 1:
            return StartResult(StartVerdict.STARTED)
        for limit in limits:
            spent = await self.spent(limit.scope, owner, limit.since)
            if spent + points > limit.limit:
                return StartResult(StartVerdict.OVER_BUDGET, limit, spent)
        return StartResult(StartVerdict.WAIT)

    async def settle(self, job_id: str, points: int, failed: bool, now: float) -> None:
        await self._run(
            f"UPDATE spend_ledger SET state = 'settled', points = ?, failed = ?, settled_at = ?, "
            f"started_at = COALESCE(started_at, ?) WHERE job_id = ? AND state IN {_OPEN}",
            (points, int(failed), now, now, job_id),
        )

    async def release(self, job_id: str, now: float) -> None:
        await self._run(
            f"UPDATE spend_ledger SET state = 'released', points = 0, settled_at = ? "
            f"WHERE job_id = ? AND state IN {_OPEN}",
            (now, job_id),
        )

    async def spent(self, scope: BudgetScope, owner: Owner, since: float) -> int:
        sql = (
            f"SELECT COALESCE(SUM(points), 0) FROM spend_ledger WHERE {_SCOPE_MATCH[scope.subject]} "
            f"AND state IN {_COUNTED} AND started_at >= ?"
        )
        return int(await self._scalar(sql, (*_scope_args(scope, owner), since)) or 0)

    async def open_counts(self, platform: str, user_id: str) -> tuple[int, int]:
        sql = (
            "SELECT SUM(state = 'held'), SUM(state = 'waiting') FROM spend_ledger "
            f"WHERE platform = ? AND user_id = ? AND state IN {_OPEN}"
        )
        row = await self._db.first(sql, (platform, user_id))
        return (int(row[0] or 0), int(row[1] or 0)) if row is not None else (0, 0)

    async def entries(self, since: float, until: float) -> Sequence[LedgerEntry]:
        sql = f"SELECT {_COLUMNS} FROM spend_ledger WHERE admitted_at >= ? AND admitted_at < ? ORDER BY seq"
        return [_entry(r) for r in await self._db.rows(sql, (since, until))]

    async def get(self, job_id: str) -> LedgerEntry | None:
        row = await self._db.first(f"SELECT {_COLUMNS} FROM spend_ledger WHERE job_id = ?", (job_id,))
        return _entry(row) if row is not None else None
