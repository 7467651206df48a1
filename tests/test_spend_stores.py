"""The spend stores' contracts (``core.spend.ports``), on SQLite and on PostgreSQL (part of the store
suite): caps and budgets hold under concurrency on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.storage import SpendStores
from core.spend.ports import (
    BudgetLimit,
    BudgetScope,
    Confirmation,
    ConfirmState,
    LedgerState,
    Owner,
    StartVerdict,
    StoredKey,
)
from tests.support.backends import Backend

ALICE = Owner("discord", "alice", "chan-1", "guild-1")
BOB = Owner("discord", "bob", "chan-1", "guild-1")


@pytest.fixture
async def stores(backend: Backend) -> AsyncIterator[SpendStores]:
    """On SQLite and on PostgreSQL (part of the store suite)."""
    async with backend.open() as opened:
        yield opened.spend


async def test_admission_is_capped_atomically_and_idempotent(stores: SpendStores) -> None:
    results = await asyncio.gather(*(stores.ledger.admit(f"j{i}", ALICE, 100.0, 7) for i in range(50)))
    assert sum(results) == 7
    assert await stores.ledger.admit("j0", ALICE, 100.0, 7)  # admitted earlier: still admitted
    assert await stores.ledger.admit("other", BOB, 100.0, 7)  # caps are per user
    assert await stores.ledger.open_counts("discord", "alice") == (0, 7)


async def test_start_respects_the_running_cap_and_the_order_at_the_gate(stores: SpendStores) -> None:
    ledger = stores.ledger
    for job in ("a", "b", "c"):
        assert await ledger.admit(job, ALICE, 1.0, 10)
        await ledger.at_gate(job)
    assert (await ledger.try_start("b", 5, "m", 2.0, 1, ())).verdict is StartVerdict.WAIT  # "a" is first
    assert (await ledger.try_start("a", 5, "m", 2.0, 1, ())).verdict is StartVerdict.STARTED
    assert (await ledger.try_start("b", 5, "m", 2.0, 1, ())).verdict is StartVerdict.WAIT  # cap 1 reached
    assert await ledger.ahead_of("c") == 1
    await ledger.settle("a", 5, False, 3.0)
    assert (await ledger.try_start("b", 5, "m", 4.0, 1, ())).verdict is StartVerdict.STARTED
    assert await ledger.ahead_of("c") == 0
    assert (await ledger.try_start("a", 5, "m", 4.0, 1, ())).verdict is StartVerdict.GONE


async def test_budgets_count_held_and_settled_points_since_the_period_start(stores: SpendStores) -> None:
    ledger = stores.ledger
    day = BudgetLimit(BudgetScope.USER_DAY, 100, since=1000.0, resets_at=2000.0)
    for job in ("old", "a", "b", "c"):
        assert await ledger.admit(job, ALICE, 900.0 if job == "old" else 1100.0, 10)
    await ledger.try_start("old", 90, "m", 900.0, 10, ())  # before the period: not counted
    await ledger.settle("old", 90, False, 950.0)
    assert (await ledger.try_start("a", 60, "m", 1100.0, 10, [day])).verdict is StartVerdict.STARTED
    assert (await ledger.try_start("b", 30, "m", 1100.0, 10, [day])).verdict is StartVerdict.STARTED
    over = await ledger.try_start("c", 20, "m", 1100.0, 10, [day])
    assert over.verdict is StartVerdict.OVER_BUDGET and over.spent == 90 and over.limit == day
    await ledger.release("b", 1200.0)  # nothing was created for "b": its points come back
    assert (await ledger.try_start("c", 20, "m", 1200.0, 10, [day])).verdict is StartVerdict.STARTED
    assert await ledger.spent(BudgetScope.USER_DAY, ALICE, 1000.0) == 80
    assert await ledger.spent(BudgetScope.CHAT_DAY, BOB, 1000.0) == 80  # same chat, counted per chat
    assert await ledger.spent(BudgetScope.USER_DAY, BOB, 1000.0) == 0


async def test_settling_is_idempotent_and_records_failures(stores: SpendStores) -> None:
    ledger = stores.ledger
    assert await ledger.admit("a", ALICE, 1.0, 10)
    await ledger.try_start("a", 40, "m", 1.0, 10, ())
    await ledger.settle("a", 40, True, 2.0)
    await ledger.settle("a", 0, False, 3.0)  # a later save of the same ending changes nothing
    await ledger.release("a", 3.0)
    entry = await ledger.get("a")
    assert entry is not None and entry.state is LedgerState.SETTLED and entry.points == 40 and entry.failed
    assert [e.job_id for e in await ledger.entries(0.0, 10.0)] == ["a"]


async def test_settings_values_and_once_only_marks(stores: SpendStores) -> None:
    s = stores.settings
    await s.put("user", "discord:alice", "day_points", "100")
    await s.put("user", "discord:alice", "day_points", "150")
    assert await s.values("user", "discord:alice") == {"day_points": "150"}
    await s.put("user", "discord:alice", "day_points", None)
    assert await s.values("user", "discord:alice") == {}
    assert await s.put_once("notice", "discord:chan", "access", "1")
    assert not await s.put_once("notice", "discord:chan", "access", "1")


async def test_a_confirmation_is_answered_once(stores: SpendStores) -> None:
    c = stores.confirmations
    await c.ask(Confirmation("j1", ALICE, 120, ("expensive",), asked_at=10.0, expires_at=610.0))
    assert (await c.latest_pending("discord", "alice", "chan-1")) is not None
    results = await asyncio.gather(
        c.answer("j1", ConfirmState.CONFIRMED), c.answer("j1", ConfirmState.DECLINED)
    )
    assert sorted(results) == [False, True]
    assert await c.latest_pending("discord", "alice", "chan-1") is None
    await c.ask(Confirmation("j2", ALICE, 120, (), asked_at=10.0, expires_at=20.0))
    assert [x.job_id for x in await c.expired(20.0)] == ["j2"]


async def test_keys_are_stored_as_given_and_marked_invalid_once(stores: SpendStores) -> None:
    k = stores.keys
    await k.put("feishu", "ou_a", StoredKey(ciphertext="gAAAA-cipher", last4="ee42", linked_at=1.0))
    assert (await k.get("feishu", "ou_a")) == StoredKey("gAAAA-cipher", "ee42", 1.0)
    assert await k.mark_invalid("feishu", "ou_a") and not await k.mark_invalid("feishu", "ou_a")
    assert await k.remove("feishu", "ou_a") and not await k.remove("feishu", "ou_a")
