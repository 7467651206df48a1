"""Upload of local media (facts §5.1-§5.2): a signed token GET, then a streamed PUT to ``ful``.

The public ``fdl`` URL is what the create payload uses afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import ErrorKind, InputError
from core.types import AttachmentKind

UPLOAD_TOKEN_PATH = "/api/rest/oss/getuploadtoken"
# Protocol constants of the upload service: a public client id, not a secret (facts §5.1).
APP_ID = "webAgent"
APP_KEY = "32jdskjdk320eew"
F_SERVICE = "privite"  # sic
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class _KindDefaults:
    f_type: str
    suffix: str
    content_type: str


_KIND_DEFAULTS = {
    AttachmentKind.IMAGE: _KindDefaults("picture", "jpeg", "image/jpeg"),
    AttachmentKind.VIDEO: _KindDefaults("video", "mp4", "video/mp4"),
    AttachmentKind.AUDIO: _KindDefaults("audio", "mp3", "audio/mpeg"),
}
_CONTENT_TYPES = {"mov": "video/quicktime", "wav": "audio/wav", "m4a": "audio/mp4", "mp3": "audio/mpeg",
                  "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}


def sign(timestamp: str, nonce: str) -> str:
    """Upper-case hex SHA-1 of ``appId|appKey|timestamp|nonce``."""
    return hashlib.sha1(f"{APP_ID}|{APP_KEY}|{timestamp}|{nonce}".encode()).hexdigest().upper()


def new_nonce() -> str:
    return uuid.uuid4().hex[:21]


def token_params(api_key: str, kind: AttachmentKind, suffix: str, content_type: str, *,
                 timestamp: int, nonce: str) -> dict[str, str]:
    """Exactly the 11 query parameters of the token call; the API key travels as appUid and
    cmimToken (the token GET carries no auth header)."""
    ts = str(int(timestamp))
    return {
        "appUid": api_key,
        "appId": APP_ID,
        "appKey": APP_KEY,
        "cmimToken": api_key,
        "sign": sign(ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "fService": F_SERVICE,
        "fType": kind_defaults(kind).f_type,
        "fSuffix": suffix,
        "fContentType": content_type,
    }


def kind_defaults(kind: AttachmentKind) -> _KindDefaults:
    try:
        return _KIND_DEFAULTS[kind]
    except KeyError:
        raise InputError(f"cannot upload a file of kind {kind.value}", kind=ErrorKind.INVALID_INPUT,
                         code="upload_kind", params={"kind": kind.value}) from None


def suffix_and_type(path: Path, kind: AttachmentKind, content_type: str | None) -> tuple[str, str]:
    defaults = kind_defaults(kind)
    suffix = path.suffix.lstrip(".").lower() or defaults.suffix
    mime = content_type or _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    return suffix, mime or defaults.content_type


async def checked_size(path: Path, max_bytes: int) -> int:
    """The file size, refusing missing, empty and over-cap files before anything is read."""
    try:
        stat = await asyncio.to_thread(path.stat)
    except OSError:
        raise InputError(f"file not found: {path.name}", code="upload_missing",
                         params={"name": path.name}) from None
    if stat.st_size <= 0:
        raise InputError(f"empty file: {path.name}", code="upload_empty", params={"name": path.name})
    if stat.st_size > max_bytes:
        raise InputError(
            f"{path.name} is {stat.st_size} bytes; the upload limit is {max_bytes}",
            code="upload_too_large",
            params={"name": path.name, "limit_mb": f"{max_bytes / (1024 * 1024):g}",
                    "size_mb": f"{stat.st_size / (1024 * 1024):.1f}"},
        )
    return int(stat.st_size)


async def file_chunks(path: Path, size: int, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
    """The file's first ``size`` bytes, read off the event loop chunk by chunk (never the whole file
    at once, and never more than was announced even if the file grows meanwhile)."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        remaining = size
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(chunk_bytes, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
