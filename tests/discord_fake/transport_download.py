"""A ``ResultDownloader`` that reaches the in-process IMA simulator through its ASGI transport (its
media URLs are not on any socket) and everything else (the fake Discord CDN) through HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.chat.download import HttpResultDownloader


class TransportDownloader:
    def __init__(
        self, transport: httpx.AsyncBaseTransport, hosts: tuple[str, ...] = ("ima.sim", "upload.sim")
    ) -> None:
        self._hosts = hosts
        self._sim = httpx.AsyncClient(transport=transport)
        self._net = httpx.AsyncClient()
        self.fetched: list[str] = []

    async def download(
        self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
    ) -> Path | None:
        from_sim = httpx.URL(url).host in self._hosts
        client = self._sim if from_sim else self._net
        path = await HttpResultDownloader(client).download(url, dest_dir, max_bytes, name)
        if from_sim and path is not None:
            self.fetched.append(url)
        return path

    async def aclose(self) -> None:
        await self._sim.aclose()
        await self._net.aclose()
