"""Exactly-once delivery records in PostgreSQL (``core.pipeline.delivery.DeliveryLog``; table 0030)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.postgres.db import PostgresDatabase
from core.pipeline.delivery import DeliveryRecord, DeliveryState

_INTEND = (
    "INSERT INTO deliveries (job_id, part, token, state, intended_at) VALUES (%s, %s, %s, 'intent', %s) "
    "ON CONFLICT (job_id, part) DO UPDATE SET attempts = deliveries.attempts + 1 "
    "WHERE deliveries.state = 'intent'"
)
_SELECT = "SELECT part, token, state, ref, attempts FROM deliveries WHERE job_id = %s"
_SENT = "UPDATE deliveries SET state = 'sent', ref = %s, sent_at = %s WHERE job_id = %s AND part = %s"


class PostgresDeliveryLog:
    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def records(self, job_id: str) -> Mapping[str, DeliveryRecord]:
        async with self._db.connection() as conn:
            cur = await conn.execute(_SELECT, (job_id,))
            rows = await cur.fetchall()
        return {str(r["part"]): _record(job_id, r) for r in rows}

    async def intend(self, job_id: str, part: str, token: str, now: float) -> DeliveryRecord:
        async with self._db.connection() as conn:
            await conn.execute(_INTEND, (job_id, part, token, now))
        return (await self.records(job_id))[part]

    async def sent(self, job_id: str, part: str, ref: str | None, now: float) -> None:
        async with self._db.connection() as conn:
            await conn.execute(_SENT, (ref, now, job_id, part))


def _record(job_id: str, row: Mapping[str, object]) -> DeliveryRecord:
    ref = row["ref"]
    return DeliveryRecord(job_id, str(row["part"]), str(row["token"]), DeliveryState(str(row["state"])),
                          None if ref is None else str(ref), int(str(row["attempts"])))
