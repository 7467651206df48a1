"""Which store backend the app runs on: the SQLite file (zero-config default) or PostgreSQL
(``[storage] url``, for several replicas). Both give the same ``Stores`` behind the core ports; the
PostgreSQL driver is imported only when it is configured."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError
from core.clock import Clock
from core.conversation.questions import QuestionStore
from core.conversation.thread import DEFAULT_KEEP, ThreadStore
from core.errors import StoreUnavailableError
from core.jobs import JobStore
from core.ops.history import JobHistory
from core.pipeline.delivery import DeliveryLog
from core.ports import DedupeStore, InboxStore, PreferenceStore
from core.spend.ports import ConfirmationStore, Ledger, SpendSettingsStore, UserKeyStore
from core.timing.durations import DurationStore

if TYPE_CHECKING:  # the drivers are imported only for the backend in use
    from adapters.postgres.db import PostgresDatabase
    from adapters.sqlite.db import Database


@dataclass(frozen=True, slots=True)
class SpendStores:
    ledger: Ledger
    settings: SpendSettingsStore
    confirmations: ConfirmationStore
    keys: UserKeyStore


@dataclass(frozen=True, slots=True)
class Stores:
    backend: str  # "sqlite" | "postgresql"
    jobs: JobStore
    preferences: PreferenceStore
    dedupe: DedupeStore
    questions: QuestionStore
    threads: ThreadStore
    history: JobHistory
    schema_version: Callable[[], Awaitable[int]]  # a cheap round trip (readiness)
    spend: SpendStores
    deliveries: DeliveryLog | None = None  # exactly-once result delivery records (SQLite 0030)
    durations: DurationStore | None = None  # learned generation times (0060; None: in memory only)
    inbox: InboxStore | None = None  # deliveries recorded before they are acknowledged (0051)


def replica_id(settings: Settings) -> str:
    """This process's name in job leases (see ``StorageSettings.replica_id``)."""
    storage = settings.storage
    if storage.replica_id:
        return storage.replica_id
    if storage.backend == "sqlite":
        return "local"
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


@asynccontextmanager
async def open_stores(settings: Settings, clock: Clock) -> AsyncIterator[Stores]:
    """The migrated stores of the configured backend, closed on exit."""
    storage = settings.storage
    if storage.url is None:
        from adapters.sqlite.db import Database, DatabaseUnusableError

        db = Database(storage.db_path)
        try:
            await db.start()
        except DatabaseUnusableError as exc:  # one line naming the file or folder and the fix
            raise SettingsError(str(exc)) from None
        try:
            yield sqlite_stores(db, clock, thread_keep=settings.conversation.thread_keep)
        finally:
            await db.aclose()
        return
    from adapters.postgres.db import PoolSize, PostgresDatabase

    password = settings.secrets.pgpassword
    pg = PostgresDatabase(storage.url, password=password.get_secret_value() if password else None,
                          size=PoolSize(min_size=1, max_size=storage.pool_size))
    try:
        await pg.start()
    except StoreUnavailableError as exc:
        raise SettingsError(f"{exc} ([storage] url; password from PGPASSWORD)") from exc
    try:
        yield postgres_stores(pg, clock, thread_keep=settings.conversation.thread_keep)
    finally:
        await pg.aclose()


def sqlite_stores(db: Database, clock: Clock, *, thread_keep: int = DEFAULT_KEEP) -> Stores:
    from adapters.conversation_stores import SqlQuestionStore, SqlThreadStore
    from adapters.dedupe_store import SqlDedupeStore
    from adapters.sqlite.deliveries import SqliteDeliveryLog
    from adapters.sqlite.durations import SqliteDurationStore
    from adapters.sqlite.history import SqliteJobHistory
    from adapters.sqlite.inbox import SqliteInboxStore
    from adapters.sqlite.jobs import SqliteJobStore
    from adapters.sqlite.ledger import SqliteLedger
    from adapters.sqlite.preferences import SqlitePreferenceStore
    from adapters.sqlite.spend_settings import (
        SqliteConfirmationStore,
        SqliteSpendSettings,
        SqliteUserKeyStore,
    )

    return Stores("sqlite", SqliteJobStore(db), SqlitePreferenceStore(db), SqlDedupeStore(db, clock),
                  SqlQuestionStore(db), SqlThreadStore(db, thread_keep), SqliteJobHistory(db),
                  db.schema_version, SpendStores(SqliteLedger(db), SqliteSpendSettings(db),
                                                 SqliteConfirmationStore(db), SqliteUserKeyStore(db)),
                  SqliteDeliveryLog(db), SqliteDurationStore(db), SqliteInboxStore(db, clock))


def postgres_stores(pg: PostgresDatabase, clock: Clock, *, thread_keep: int = DEFAULT_KEEP) -> Stores:
    from adapters.conversation_stores import SqlQuestionStore, SqlThreadStore
    from adapters.dedupe_store import SqlDedupeStore
    from adapters.postgres.deliveries import PostgresDeliveryLog
    from adapters.postgres.durations import PostgresDurationStore
    from adapters.postgres.history import PostgresJobHistory
    from adapters.postgres.inbox import PostgresInboxStore
    from adapters.postgres.jobs import PostgresJobStore
    from adapters.postgres.preferences import PostgresPreferenceStore
    from adapters.postgres.spend import (
        PostgresConfirmationStore,
        PostgresLedger,
        PostgresSpendSettings,
        PostgresUserKeyStore,
    )

    return Stores("postgresql", PostgresJobStore(pg), PostgresPreferenceStore(pg),
                  SqlDedupeStore(pg, clock), SqlQuestionStore(pg),
                  SqlThreadStore(pg, thread_keep), PostgresJobHistory(pg), pg.schema_version,
                  SpendStores(PostgresLedger(pg), PostgresSpendSettings(pg), PostgresConfirmationStore(pg),
                              PostgresUserKeyStore(pg)),
                  PostgresDeliveryLog(pg), PostgresDurationStore(pg), PostgresInboxStore(pg, clock))
