"""``core.media.ports.MediaProbe`` with Pillow (images) and PyAV (video/audio), which ship their own
codecs (no ffprobe/ffmpeg install needed).

Both libraries block, so each call runs in a worker thread under a time limit and a concurrency
limit. A timed-out thread cannot be killed; it finishes in the background while the caller already
has its error. Pictures are only decoded when their header size is sane (decompression bombs), and
clips are demuxed to the end (no decoding) so a cut file whose header promises more is caught.
PyAV and Pillow (``adapters.media.av_files``) are imported by the first probe, in its worker thread:
a bot that never receives an attachment never loads them, and the event loop never waits for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from core.media.ports import MediaInfo, MediaTooLargeError, MediaUnreadableError

T = TypeVar("T")


class PyAvProbe:
    def __init__(self, timeout_s: float = 15.0, max_bytes: int = 200 * 1024 * 1024, *,
                 max_decode_pixels: int = 40_000_000, max_concurrent: int = 2) -> None:
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._max_decode_pixels = max_decode_pixels
        self._slots = asyncio.Semaphore(max(1, max_concurrent))

    async def probe(self, path: Path) -> MediaInfo:
        size = (await asyncio.to_thread(path.stat)).st_size
        if size > self._max_bytes:
            raise MediaTooLargeError(f"{path.name}: {size} bytes", limit_bytes=self._max_bytes,
                                     size_bytes=size)
        return await self._in_thread(_probe_file, path, size, self._max_decode_pixels)

    async def extract_cover(self, video_path: Path, dest: Path) -> Path:
        await self._in_thread(_first_frame_jpeg, video_path, dest, self._max_decode_pixels)
        return dest

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        async with self._slots:
            try:
                return await asyncio.wait_for(asyncio.to_thread(fn, *args), self._timeout_s)
            except TimeoutError as exc:
                raise MediaUnreadableError(f"probe timed out after {self._timeout_s:g}s") from exc



def _probe_file(path: Path, size: int, max_decode_pixels: int) -> MediaInfo:
    from adapters.media.av_files import probe_file

    return probe_file(path, size, max_decode_pixels)


def _first_frame_jpeg(video_path: Path, dest: Path, max_decode_pixels: int) -> None:
    from adapters.media.av_files import first_frame_jpeg

    first_frame_jpeg(video_path, dest, max_decode_pixels)
