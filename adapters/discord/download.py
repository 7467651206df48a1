"""User attachments on Discord: ``discord:<cdn url>`` refs, fetched only from Discord's CDN hosts with the
chat kit's capped downloader (the same one that fetches results)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from adapters.chat.delivery import ResultDownloader, file_name_for
from core.errors import InputError
from core.types import Attachment

_CHUNK = 64 * 1024


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
