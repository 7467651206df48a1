"""A ``ResultDownloader`` for tests: the one safe fetcher reaching the in-process IMA simulator through
its ASGI transport (its media URLs are not on any socket; its origins are trusted like a configured
local simulator's)."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.chat.download import SafeResultDownloader
from adapters.media.remote import SafeRemoteFetcher

SIM_ORIGINS = frozenset({"http://ima.sim", "http://upload.sim"})


class TransportDownloader:
    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._fetcher = SafeRemoteFetcher(transport=transport, trusted_origins=SIM_ORIGINS)
        self._safe = SafeResultDownloader(self._fetcher)
        self.fetched: list[str] = []

    async def download(
        self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
    ) -> Path | None:
        path = await self._safe.download(url, dest_dir, max_bytes, name)
        if path is not None:
            self.fetched.append(url)
        return path

    async def aclose(self) -> None:
        await self._fetcher.aclose()
