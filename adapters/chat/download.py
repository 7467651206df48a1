"""Stream an HTTP body to a local file with a hard byte cap (never the whole body in memory): user
attachments a platform hands over by URL, and the results the chat kit delivers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

import httpx

from adapters.streaming import save_capped
from core.errors import ErrorKind, PlatformError
from core.media.ports import MediaTooLargeError

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
            await save_capped(response, dest, max_bytes, CHUNK_BYTES)
    except httpx.HTTPError as exc:
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        raise PlatformError(f"download failed: {type(exc).__name__}", kind=ErrorKind.NETWORK) from exc
    except MediaTooLargeError:
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        raise
    return dest


def _platform_code(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    code = value.get("code") if isinstance(value, dict) else None
    return str(code) if code is not None else ""


class HttpResultDownloader:
    """``adapters.chat.delivery.ResultDownloader`` over an httpx client the caller owns."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def download(self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
                       ) -> Path | None:
        try:
            return await download_to(self._http, url, dest_dir / (name or "result.bin"), max_bytes)
        except MediaTooLargeError:
            return None
