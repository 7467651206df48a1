"""``DeliveryLog`` contract (written against the Protocol so the PostgreSQL store can share it)."""

from __future__ import annotations

from adapters.sqlite.db import Database
from adapters.sqlite.deliveries import SqliteDeliveryLog
from core.pipeline.delivery import DeliveryLog, DeliveryState, delivery_token


async def check_contract(log: DeliveryLog) -> None:
    assert await log.records("j1") == {}
    first = await log.intend("j1", "result:0", delivery_token("j1", "result:0"), 10.0)
    assert (first.state, first.attempts) == (DeliveryState.INTENT, 1)
    again = await log.intend("j1", "result:0", "another-token", 20.0)  # after a crash: same token kept
    assert (again.token, again.attempts) == (delivery_token("j1", "result:0"), 2)
    await log.sent("j1", "result:0", "msg-7", 21.0)
    done = (await log.records("j1"))["result:0"]
    assert (done.state, done.ref) == (DeliveryState.SENT, "msg-7")
    unchanged = await log.intend("j1", "result:0", "x", 30.0)  # a sent part is never reopened
    assert (unchanged.state, unchanged.attempts) == (DeliveryState.SENT, 2)
    assert await log.records("j2") == {}


async def test_sqlite_delivery_log_keeps_the_contract(db: Database) -> None:
    await check_contract(SqliteDeliveryLog(db))


def test_tokens_are_stable_short_and_distinct_per_part() -> None:
    token = delivery_token("j1767225600000100aa", "result:0")
    assert token == delivery_token("j1767225600000100aa", "result:0")
    assert len(token) <= 25 and token.isalnum()
    assert token != delivery_token("j1767225600000100aa", "result:1")
