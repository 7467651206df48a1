"""A ``ResultDownloader`` that reaches the in-process IMA simulator through its ASGI transport (its
media URLs are not on any socket) and everything else (the fake Discord CDN) through HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.chat.delivery import file_name_for
from adapters.discord.download import HttpDownloader


class TransportDownloader:
    def __init__(
        self, transport: httpx.AsyncBaseTransport, hosts: tuple[str, ...] = ("ima.sim", "upload.sim")
    ) -> None:
        self._transport = transport
        self._hosts = hosts
        self.http = HttpDownloader()
        self.fetched: list[str] = []

    async def download(
        self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
    ) -> Path | None:
        if httpx.URL(url).host not in self._hosts:
            return await self.http.download(url, dest_dir, max_bytes, name)
        dest = dest_dir / (name or file_name_for(url, "media.bin"))
        async with httpx.AsyncClient(transport=self._transport) as client, client.stream("GET", url) as resp:
            resp.raise_for_status()
            announced = int(resp.headers.get("content-length", "0"))
            if announced > max_bytes:
                return None
            written = 0
            with dest.open("wb") as fh:
                async for chunk in resp.aiter_bytes():
                    written += len(chunk)
                    if written > max_bytes:
                        return None
                    fh.write(chunk)
        self.fetched.append(url)
        return dest

    async def aclose(self) -> None:
        await self.http.aclose()
