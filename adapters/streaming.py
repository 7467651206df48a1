"""Save an httpx response body to a file under a hard byte cap, never holding the body in memory.

Shared by every edge that downloads media (Feishu resources and results, remote reference URLs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.media.ports import MediaTooLargeError

if TYPE_CHECKING:
    import httpx

CHUNK_BYTES = 64 * 1024


async def save_capped(response: httpx.Response, dest: Path, max_bytes: int,
                      chunk_bytes: int = CHUNK_BYTES) -> None:
    """Raises ``MediaTooLargeError`` when the declared Content-Length or the bytes actually streamed
    pass ``max_bytes``; the partial file is left for the caller to remove."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise MediaTooLargeError(f"content-length {declared} over {max_bytes} bytes", limit_bytes=max_bytes,
                                 size_bytes=int(declared))
    received = 0
    handle: BinaryIO = await asyncio.to_thread(dest.open, "wb")
    try:
        async for chunk in response.aiter_bytes(chunk_bytes):
            received += len(chunk)
            if received > max_bytes:
                raise MediaTooLargeError(f"stream passed {max_bytes} bytes", limit_bytes=max_bytes)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
