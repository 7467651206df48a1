"""Streamed, size-capped downloads to a local file (result media to attach; user attachments to fetch).

The body is written chunk by chunk, so a file is never held in memory; a download that announces or
reaches more than ``max_bytes`` stops and returns None (the caller falls back to a link).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import aiohttp

from adapters.chat.delivery import ResultDownloader, file_name_for
from core.errors import ErrorKind, InputError, PlatformError
from core.types import Attachment

_CHUNK = 64 * 1024


class HttpDownloader:
    """aiohttp-based downloader with its own session (``start``/``aclose``)."""

    def __init__(self, timeout_s: float = 60.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def download(
        self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
    ) -> Path | None:
        await self.start()
        assert self._session is not None
        dest = dest_dir / (name or file_name_for(url, "media.bin"))
        try:
            async with self._session.get(url) as resp:
                if resp.status >= 400:
                    raise PlatformError(f"download failed with HTTP {resp.status}", kind=ErrorKind.NETWORK)
                if resp.content_length is not None and resp.content_length > max_bytes:
                    return None
                fh: IO[bytes] = await asyncio.to_thread(dest.open, "wb")
                try:
                    written = 0
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            break
                        await asyncio.to_thread(fh.write, chunk)
                finally:
                    await asyncio.to_thread(fh.close)
        except aiohttp.ClientError as exc:
            raise PlatformError(f"download failed: {type(exc).__name__}", kind=ErrorKind.NETWORK) from exc
        if written > max_bytes:
            await asyncio.to_thread(dest.unlink, True)
            return None
        return dest


ATTACHMENT_PREFIX = "discord:"
DISCORD_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def attachment_ref(url: str) -> str:
    """The ``Attachment.ref`` of a Discord upload: a platform handle, so the core hands it to
    ``DiscordAttachmentFetcher`` (CDN URLs are signed and expire; the fetched copy gets uploaded)."""
    return ATTACHMENT_PREFIX + url


class DiscordAttachmentFetcher:
    """``core.ports.AttachmentFetcher`` for ``discord:<cdn url>`` refs.

    Only Discord's CDN hosts (plus the hosts of configured API / gateway overrides: a proxy or a fake) are
    fetched, so a ref can never make the bot reach into another network.
    """

    def __init__(self, downloader: ResultDownloader, extra_hosts: frozenset[str] = frozenset()) -> None:
        self._downloader = downloader
        self._hosts = DISCORD_CDN_HOSTS | extra_hosts

    def trust(self, hosts: frozenset[str]) -> None:
        """Also fetch from ``hosts`` (the gateway a proxy or fake announced at login)."""
        self._hosts = self._hosts | hosts

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        url = attachment.ref.removeprefix(ATTACHMENT_PREFIX)
        parts = urlsplit(url)
        if (
            not attachment.ref.startswith(ATTACHMENT_PREFIX)
            or parts.scheme not in ("http", "https")
            or (parts.hostname or "").lower() not in self._hosts
        ):
            raise InputError("not a Discord attachment", params={"name": attachment.name})
        path = await self._downloader.download(
            url, dest_dir, max_bytes, file_name_for(attachment.name, "attachment.bin")
        )
        if path is None:
            raise InputError("attachment over the size limit", params={"name": attachment.name})
        return path
