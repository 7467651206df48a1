"""Two small guards of the runner: a create that outlives a cancel, and a fetcher for platforms
without local files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TypeVar

from core.errors import InputError
from core.types import Attachment

T = TypeVar("T")


async def complete_despite_cancel(work: Coroutine[object, object, T],
                                  may_have_left: Callable[[], bool] = lambda: True) -> T:
    """Once the create request may be out, IMA may already be charging for it: a cancel (shutdown or the
    user's) waits until the answer is recorded, then goes on, so the task id is never lost. Before that
    (``may_have_left()`` false: waiting for its turn, or for a Retry-After after a refusal) nothing
    exists, and the cancel stops the work at once."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not may_have_left():
            task.cancel()
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # stored as it ended (SUBMITTING: outcome unknown); the cancel wins
        raise


class NoLocalFiles:
    """For platforms without a fetcher: only remote URLs (fetched by the preparer) can be used."""

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        raise InputError("this platform cannot provide attachment files")
