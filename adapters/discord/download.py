"""Discord attachments (``discord:<cdn url>`` refs) fetched through the one safe fetcher."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from adapters.chat.delivery import file_name_for
from adapters.media.remote import SafeRemoteFetcher
from core.errors import InputError
from core.types import Attachment

ATTACHMENT_PREFIX = "discord:"
DISCORD_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def attachment_ref(url: str) -> str:
    """The ``Attachment.ref`` of a Discord upload: a platform handle, so the core hands it to
    ``DiscordAttachmentFetcher`` (CDN URLs are signed and expire; the fetched copy gets uploaded)."""
    return ATTACHMENT_PREFIX + url


class DiscordAttachmentFetcher:
    """``core.ports.AttachmentFetcher`` for ``discord:<cdn url>`` refs.

    Only Discord's CDN hosts (plus the hosts of configured API / gateway overrides: a proxy or a fake) are
    fetched, and they are trusted by name only: a redirect from them is checked like any URL, so a ref
    can never make the bot reach into another network (a CDN URL redirecting to 10.0.0.1 is refused).
    Over the cap is ``MediaTooLargeError`` ("too large"), not a failed download.
    """

    def __init__(self, fetcher: SafeRemoteFetcher, extra_hosts: frozenset[str] = frozenset()) -> None:
        self._fetcher = fetcher
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
        return await self._fetcher.fetch(url, dest_dir, max_bytes, trusted_hosts=self._hosts,
                                         name=file_name_for(attachment.name, "attachment.bin"))
