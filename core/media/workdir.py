"""The one temp-dir helper: a private working directory for media files, removed with everything in it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


@asynccontextmanager
async def temp_workdir(root: Path | None, prefix: str = "imabot-") -> AsyncIterator[Path]:
    """A fresh directory under ``root`` (the system's temp dir when None); file work runs off the loop."""
    path = await asyncio.to_thread(_make, root, prefix)
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path, True)


def _make(root: Path | None, prefix: str) -> Path:
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))
