"""Downloads for the chat kit (results to deliver, user files a platform hands over by URL), all through
the one safe fetcher (``adapters.media.remote.SafeRemoteFetcher``): every redirect hop checked, sizes
capped while streaming, a platform's own hosts trusted by name only."""

from __future__ import annotations

from pathlib import Path

from adapters.media.remote import SafeRemoteFetcher
from core.media.ports import MediaTooLargeError


class SafeResultDownloader:
    """``adapters.chat.delivery.ResultDownloader`` over the safe fetcher: None when the file is over
    ``max_bytes`` (the caller offers the link); refused or failed downloads raise ``InputError``s."""

    def __init__(self, fetcher: SafeRemoteFetcher, trusted_hosts: frozenset[str] = frozenset()) -> None:
        self._fetcher = fetcher
        self._trusted = trusted_hosts

    async def download(self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
                       ) -> Path | None:
        try:
            return await self._fetcher.fetch(url, dest_dir, max_bytes, trusted_hosts=self._trusted, name=name)
        except MediaTooLargeError:
            return None
