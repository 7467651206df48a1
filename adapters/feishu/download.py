"""Stream an HTTP body to a local file with a hard byte cap (never the whole body in memory)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import httpx

from core.errors import ErrorKind, PlatformError
from core.media_ports import MediaTooLargeError

CHUNK_BYTES = 256 * 1024


async def download_to(http: httpx.AsyncClient, url: str, dest: Path, max_bytes: int,
                      headers: Mapping[str, str] | None = None) -> Path:
    """Raises ``MediaTooLargeError`` past ``max_bytes`` (checked before and while streaming) and
    ``PlatformError`` for transport failures or non-2xx answers (``code`` = HTTP status, plus the
    platform error code from a JSON body in ``params['code']`` when there is one)."""
    try:
        async with http.stream("GET", url, headers=dict(headers or {})) as response:
            if response.status_code >= 300:
                body = await response.aread()
                raise PlatformError(f"download failed: http {response.status_code}",
                                    kind=ErrorKind.BAD_PARAMS, code=response.status_code,
                                    params={"code": _platform_code(body)})
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise MediaTooLargeError(f"{dest.name}: declared {declared} bytes", limit_bytes=max_bytes,
                                         size_bytes=int(declared))
            await _write_stream(response, dest, max_bytes)
    except httpx.HTTPError as exc:
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        raise PlatformError(f"download failed: {type(exc).__name__}", kind=ErrorKind.NETWORK) from exc
    except MediaTooLargeError:
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        raise
    return dest


async def _write_stream(response: httpx.Response, dest: Path, max_bytes: int) -> None:
    written = 0
    handle: BinaryIO = await asyncio.to_thread(dest.open, "wb")
    try:
        async for chunk in response.aiter_bytes(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise MediaTooLargeError(f"{dest.name}: over {max_bytes} bytes", limit_bytes=max_bytes)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)


def _platform_code(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    code = value.get("code") if isinstance(value, dict) else None
    return str(code) if code is not None else ""
