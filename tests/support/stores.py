"""The app's ``Stores`` on an open SQLite ``Database`` (for tests that build an ``AppContext`` by hand)."""

from __future__ import annotations

from adapters.sqlite.db import Database
from bot import storage
from bot.storage import Stores
from core.clock import Clock, FakeClock


def sqlite_stores(db: Database, clock: Clock | None = None) -> Stores:
    return storage.sqlite_stores(db, clock or FakeClock(auto=False))
