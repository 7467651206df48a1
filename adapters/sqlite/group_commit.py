"""Group commit for the one SQLite connection: every unit of work that arrives while the connection's
thread is busy goes over in the next hop, each unit inside its own savepoint, and the lot is committed
once.

At 200 messages/s the bot makes about 1,400 small writes a second. One hop and one commit each kept the
connection's thread queued behind itself: the thread needs the GIL for every step, and a busy event loop
gives it up only every switch interval (5 ms), so a write waited ~27 ms (p50) for the ones in front of
it, and an acknowledgment waits for two. Grouped, a burst of writes costs one wait and one commit.

A unit fails alone: its savepoint is rolled back and its caller gets its error; the others are kept.
Every caller returns only once its unit is committed (or with the error that kept it from that).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

R = TypeVar("R")
Work = Callable[[Callable[[], sqlite3.Cursor]], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception)


class GroupCommit:
    """Units of work (each given a maker of cursors) for ``conn``'s thread, committed in groups."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Callable[[], sqlite3.Cursor]], R]) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        return await done

    async def aclose(self) -> None:
        """Waits until every unit handed in so far is committed (or failed)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                await self._commit(group)
        finally:
            self._flusher = None
            if self._waiting:  # cancelled mid-group: whatever came in since still gets its commit
                self._flusher = asyncio.ensure_future(self._flush())

    async def _commit(self, group: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        works = [work for work, _ in group]
        try:
            outcomes: list[Outcome] = await self._conn._execute(  # type: ignore[no-untyped-call]
                commit_units, works, self._conn._conn)
        except BaseException as exc:  # the group as a whole failed (begin / commit): no unit landed
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, done), (ok, value) in zip(group, outcomes, strict=True):
            if done.done():
                continue  # its caller was cancelled; the unit is committed all the same
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)


# What runs on the connection's thread: every cursor a unit made is closed (an open one keeps its
# statement "in progress" and blocks the commit), a failed unit is rolled back to its savepoint, and
# the group is committed once; if that fails, or SQLite itself ended the transaction, the group fails.
def commit_units(works: list[Work], raw: sqlite3.Connection) -> list[Outcome]:
    outcomes: list[Outcome] = []
    if not raw.in_transaction:
        raw.execute("BEGIN")
    try:
        for work in works:
            outcomes.append(_unit(work, raw))
        raw.commit()
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # the first failure is the one to report
            raw.rollback()
        raise
    return outcomes


def _unit(work: Work, raw: sqlite3.Connection) -> Outcome:
    raw.execute("SAVEPOINT unit")
    try:
        result = run_closing(work, raw)
    except Exception as exc:
        if not raw.in_transaction:  # SQLite rolled the whole transaction back (disk full, I/O error)
            raise
        raw.execute("ROLLBACK TO unit")
        raw.execute("RELEASE unit")
        return False, exc
    raw.execute("RELEASE unit")
    return True, result


def run_closing(work: Work, raw: sqlite3.Connection) -> Any:
    """``work``'s result, given a maker of cursors on ``raw``; every cursor it made is closed after, even
    when it failed (an open one keeps its statement "in progress" and blocks the commit)."""
    cursors: list[sqlite3.Cursor] = []

    def cursor() -> sqlite3.Cursor:
        cursors.append(raw.cursor())
        return cursors[-1]

    try:
        return work(cursor)
    finally:
        for made in cursors:
            made.close()
