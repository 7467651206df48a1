"""``core.conversation.ports.LastFrameSource`` with PyAV: fetch a finished video, decode its LAST frame,
upload it as a JPEG and return its public URL.

A video's cover is its first frame; a clip that should *continue* must start where the last one ended.
Decoding seeks close to the end first (a long clip is not decoded from the start), in a worker thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.media.ports import AssetGateway, MediaUnreadableError, RemoteFetcher
from core.media.workdir import temp_workdir
from core.types import AttachmentKind


class PyAvLastFrame:
    def __init__(self, remote: RemoteFetcher, assets: AssetGateway, temp_dir: Path, *,
                 max_bytes: int = 200 * 1024 * 1024, timeout_s: float = 30.0,
                 max_decode_pixels: int = 4096 * 4096) -> None:
        self._remote = remote
        self._assets = assets
        self._temp_dir = temp_dir
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._max_pixels = max_decode_pixels

    async def last_frame_url(self, video_url: str) -> str:
        async with temp_workdir(self._temp_dir, "imabot-frame-") as workdir:
            video = await self._remote.fetch(video_url, workdir, self._max_bytes)
            frame = workdir / "last_frame.jpg"
            try:
                await asyncio.wait_for(asyncio.to_thread(last_frame_jpeg, video, frame, self._max_pixels),
                                       self._timeout_s)
            except TimeoutError as exc:
                raise MediaUnreadableError(f"last frame timed out after {self._timeout_s:g}s") from exc
            return await self._assets.upload_file(frame, AttachmentKind.IMAGE, "image/jpeg")


def last_frame_jpeg(video_path: Path, dest: Path, max_decode_pixels: int) -> Path:
    """Write the last decodable frame of ``video_path`` to ``dest`` (JPEG). Runs in a worker thread;
    PyAV and Pillow are imported here, on first use (``adapters.media.av_files``)."""
    from adapters.media.av_files import last_frame_jpeg as decode_last_frame

    return decode_last_frame(video_path, dest, max_decode_pixels)
