"""Seams for reading media files and fetching user-supplied URLs.

Adapters (``adapters.media``) implement these with PyAV and httpx; the domain only sees
``MediaInfo`` values and the errors below, which name the file but never carry a full URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.errors import InputError
from core.ports import VerifyResult
from core.types import AttachmentKind


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a probe learned about one local file. ``format`` is a short lowercase name such as
    ``jpeg``, ``png``, ``mp4``, ``mov``, ``wav``, ``mp3``."""

    kind: AttachmentKind
    format: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None
    has_video: bool = False
    has_audio: bool = False


class AssetGateway(Protocol):
    """The part of ``core.ports.ImaGateway`` that input preparation needs (any ImaGateway fits)."""

    async def upload_file(self, path: Path, kind: AttachmentKind, content_type: str | None = None) -> str: ...

    async def verify_asset(self, url: str, name: str) -> VerifyResult: ...


class MediaProbe(Protocol):
    async def probe(self, path: Path) -> MediaInfo:
        """Raise ``MediaUnreadableError`` when the file is not a readable image, video or audio."""
        ...

    async def extract_cover(self, video_path: Path, dest: Path) -> Path:
        """Write the first video frame as a JPEG to ``dest`` and return it."""
        ...


class RemoteFetcher(Protocol):
    async def fetch(self, url: str, dest_dir: Path, max_bytes: int) -> Path:
        """Download a user-supplied public http(s) URL into ``dest_dir``.

        Raises ``UnsafeUrlError`` for URLs that point at non-public hosts (checked on every
        redirect hop), ``MediaTooLargeError`` past ``max_bytes`` and ``RemoteFetchError`` otherwise.
        """
        ...


class MediaUnreadableError(InputError):
    """A file could not be decoded (text renamed .mp4, truncated file, unknown format)."""


class MediaTooLargeError(InputError):
    """A download or file went over its byte cap. ``limit_bytes`` is the cap that was hit."""

    def __init__(self, detail: str = "", *, limit_bytes: int, size_bytes: int | None = None) -> None:
        super().__init__(detail)
        self.limit_bytes = limit_bytes
        self.size_bytes = size_bytes


class UnsafeUrlReason:
    SCHEME = "scheme"  # not http(s)
    CREDENTIALS = "credentials"  # user:pass@ in the URL
    HOST_NAME = "host_name"  # localhost, *.local, *.internal ...
    PRIVATE_ADDRESS = "private_address"  # loopback, private, link-local, reserved, CGNAT, multicast
    TOO_MANY_REDIRECTS = "too_many_redirects"
    UNRESOLVABLE = "unresolvable"


class UnsafeUrlError(InputError):
    """The URL (or a redirect hop) is not a public http(s) address; ``reason`` is an
    ``UnsafeUrlReason`` value."""

    def __init__(self, detail: str = "", *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class RemoteFetchError(InputError):
    """The URL could not be downloaded (HTTP error status, timeout, connection failure)."""
