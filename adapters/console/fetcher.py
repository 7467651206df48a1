"""``AttachmentFetcher`` for the console: attachments are local files (``ref`` is a path)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from core.errors import InputError
from core.media.ports import MediaTooLargeError
from core.types import Attachment


def _copy(ref: str, dest_dir: Path, max_bytes: int) -> Path:
    source = Path(ref).expanduser()
    if not source.is_file():
        raise InputError("attachment file not found", params={"file": source.name})
    size = source.stat().st_size
    if size > max_bytes:
        raise MediaTooLargeError("attachment too large", limit_bytes=max_bytes, size_bytes=size)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / source.name
    shutil.copyfile(source, target)
    return target


class LocalFileFetcher:
    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        return await asyncio.to_thread(_copy, attachment.ref, dest_dir, max_bytes)
