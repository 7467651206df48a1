"""A ``GenerationService`` with the spend rules (issue #12) wired on SQLite, for service-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from adapters.ima.client import ImaClient
from adapters.ima.own_keys import OwnKeyClients
from adapters.secrets.fernet import FernetCipher
from adapters.sqlite.db import Database
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.ledger import SqliteLedger
from adapters.sqlite.spend_settings import SqliteConfirmationStore, SqliteSpendSettings, SqliteUserKeyStore
from core.clock import Clock
from core.messages import Messages
from core.pipeline.service import GenerationService
from core.platform import EventSink
from core.ports import CreatedTask, CreateWatch, ImaGateway, TaskSnapshot, TaskSpec
from core.spend.gate import SpendGate
from core.spend.hooks import SettlingJobStore, Spend
from core.spend.keys import UserKeys
from core.spend.policy import BillingMode, SpendPolicy
from core.types import Platform
from tests.support.ima import SimHarness
from tests.support.service import running_service

MASTER_KEY = "test-master-key-0123456789abcdef"
Hook = Callable[[], Awaitable[None]]


class GatewayTap:
    """The IMA client with a hook awaited before every create or poll (to observe or hold them)."""

    def __init__(self, inner: ImaGateway, *, before_create: Hook | None = None,
                 before_poll: Hook | None = None) -> None:
        self._inner = inner
        self._before_create = before_create
        self._before_poll = before_poll

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        if self._before_create is not None:
            await self._before_create()
        return await self._inner.create_task(spec, watch)

    async def get_task(self, task_id: str) -> TaskSnapshot:
        if self._before_poll is not None:
            await self._before_poll()
        return await self._inner.get_task(task_id)


def make_spend(
    db: Database,
    clock: Clock,
    policy: SpendPolicy | None = None,
    *,
    own_keys: ImaClient | None = None,
    cipher: bool = True,
) -> Spend:
    policy = policy or SpendPolicy()
    messages = Messages.from_package()
    gate = SpendGate(
        policy, SqliteLedger(db), SqliteSpendSettings(db), SqliteConfirmationStore(db), clock, messages
    )
    keys = UserKeys(
        policy.billing,
        SqliteUserKeyStore(db),
        FernetCipher(MASTER_KEY) if cipher else None,
        OwnKeyClients(own_keys) if own_keys is not None else None,
        clock,
        messages,
    )
    return Spend(gate=gate, keys=keys)


@asynccontextmanager
async def spend_service(
    sim: SimHarness,
    db: Database,
    clock: Clock,
    sinks: Mapping[Platform, EventSink],
    policy: SpendPolicy | None = None,
    **kwargs: Any,
) -> AsyncIterator[tuple[GenerationService, Spend]]:
    """``running_service`` plus the spend rules; own keys go to the simulator when billing allows them."""
    policy = policy or SpendPolicy()
    async with sim.client() as base:
        spend = make_spend(
            db, clock, policy, own_keys=base if policy.billing is not BillingMode.OPERATOR else None
        )
        jobs = SettlingJobStore(SqliteJobStore(db), spend.gate)
        async with running_service(sim, db, clock, sinks, jobs=jobs, spend=spend, **kwargs) as service:
            yield service, spend
