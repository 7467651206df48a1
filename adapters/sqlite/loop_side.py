"""The two connections the event loop's own thread uses: a read-only one for point reads and one for
small committed writes. In WAL mode with ``synchronous=NORMAL`` a read from the page cache takes ~6 µs
and a commit ~30-60 µs (it appends to the WAL; nothing is synced), while a trip to aiosqlite's thread
and back cost ~65 µs of CPU and, at 200 messages/s, ~5 ms of waiting per write (the thread waits for
the GIL and the loop for its turn): the acknowledgment's two writes were most of its latency.

What could block does not happen here:
- neither connection ever waits for a lock (``busy_timeout=0``): a busy database is handed to the
  thread, which waits for it;
- the writer never checkpoints (``wal_autocheckpoint=0``: a checkpoint syncs to disk); the
  ``Database`` runs one on its thread every ``CHECKPOINT_EVERY`` commits made here, and holds writes
  back during its short second pass, so that the WAL can start over after it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from adapters.sqlite.group_commit import Outcome, Work, run_closing

CHECKPOINT_EVERY = 500  # commits; ~1-2 MB of WAL


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class LoopConnections:
    def __init__(self, reader: sqlite3.Connection, writer: sqlite3.Connection) -> None:
        self._reader, self._writer = reader, writer
        self.commits = 0
        """Commits made here since the last checkpoint."""

    @classmethod
    def open(cls, path: str) -> LoopConnections:
        """Blocking (run it on a thread); both connections may then be used from the loop's thread."""
        reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA busy_timeout=0")
        reader.execute("PRAGMA query_only=ON")
        writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        writer.row_factory = sqlite3.Row
        for pragma in ("busy_timeout=0", "synchronous=NORMAL", "foreign_keys=ON", "wal_autocheckpoint=0"):
            writer.execute(f"PRAGMA {pragma}")
        return cls(reader, writer)

    def read(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row] | None:
        """The rows, or None when the database is busy (read it on the thread)."""
        try:
            return self._reader.execute(sql, tuple(args)).fetchall()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise

    def write(self, work: Work) -> Outcome | None:
        """``work`` committed as one unit, or None when another connection holds the write lock (nothing
        was done: write it on the thread)."""
        writer = self._writer
        try:
            writer.execute("BEGIN IMMEDIATE")  # the write lock now, or busy before any work
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise
        # The transaction is the unit (no savepoint): every statement here lets go of the GIL and takes
        # it back, and aiosqlite's thread may hold it meanwhile.
        try:
            result = run_closing(work, writer)
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                writer.rollback()
            return False, exc
        try:
            writer.commit()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                writer.rollback()
            raise
        self.commits += 1
        return True, result

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
