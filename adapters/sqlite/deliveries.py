"""SQLite implementation of ``core.pipeline.delivery.DeliveryLog`` (table from migration 0030)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.sqlite.db import Database, mapped_store_errors
from core.pipeline.delivery import DeliveryRecord, DeliveryState


class SqliteDeliveryLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    @mapped_store_errors
    async def records(self, job_id: str) -> Mapping[str, DeliveryRecord]:
        rows = await self._db.rows(
            "SELECT part, token, state, ref, attempts FROM deliveries WHERE job_id = ?", (job_id,))
        return {row["part"]: DeliveryRecord(job_id, row["part"], row["token"], DeliveryState(row["state"]),
                                            row["ref"], int(row["attempts"])) for row in rows}

    @mapped_store_errors
    async def intend(self, job_id: str, part: str, token: str, now: float) -> DeliveryRecord:
        await self._db.change(
            "INSERT INTO deliveries (job_id, part, token, state, intended_at) VALUES (?, ?, ?, 'intent', ?) "
            "ON CONFLICT(job_id, part) DO UPDATE SET attempts = attempts + 1 WHERE state = 'intent'",
            (job_id, part, token, now))
        return (await self.records(job_id))[part]

    @mapped_store_errors
    async def sent(self, job_id: str, part: str, ref: str | None, now: float) -> None:
        await self._db.change(
            "UPDATE deliveries SET state = 'sent', ref = ?, sent_at = ? WHERE job_id = ? AND part = ?",
            (ref, now, job_id, part))
