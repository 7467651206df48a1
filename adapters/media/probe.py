"""``core.media_ports.MediaProbe`` with PyAV, which ships its own FFmpeg libraries (no ffprobe).

PyAV calls block, so each runs in a worker thread with a time limit. A timed-out thread cannot be
killed; it finishes in the background while the caller already has its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
from PIL import Image

from core.media_ports import MediaInfo, MediaTooLargeError, MediaUnreadableError
from core.types import AttachmentKind

# Image codecs (single-picture demuxers report the codec, not a container) -> our format name.
_IMAGE_CODECS = {"mjpeg": "jpeg", "png": "png", "webp": "webp", "bmp": "bmp", "tiff": "tiff", "gif": "gif"}
_IMAGE_DEMUXERS = {"image2", "gif", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe"}
_AUDIO_DEMUXERS = {"wav": "wav", "mp3": "mp3", "ogg": "ogg", "flac": "flac", "aac": "aac"}
_MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
_MATROSKA_DEMUXER = "matroska,webm"
T = TypeVar("T")


class PyAvProbe:
    def __init__(self, timeout_s: float = 15.0, max_bytes: int = 200 * 1024 * 1024) -> None:
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes

    async def probe(self, path: Path) -> MediaInfo:
        size = (await asyncio.to_thread(path.stat)).st_size
        if size > self._max_bytes:
            raise MediaTooLargeError(f"{path.name}: {size} bytes", limit_bytes=self._max_bytes,
                                     size_bytes=size)
        return await self._in_thread(_probe, path, size)

    async def extract_cover(self, video_path: Path, dest: Path) -> Path:
        await self._in_thread(_first_frame_jpeg, video_path, dest)
        return dest

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), self._timeout_s)
        except TimeoutError as exc:
            raise MediaUnreadableError(f"probe timed out after {self._timeout_s:g}s") from exc


def _probe(path: Path, size: int) -> MediaInfo:
    if size == 0:
        raise MediaUnreadableError(f"{path.name}: empty file")
    try:
        with av.open(str(path)) as container:
            return _describe(container, size)
    except MediaUnreadableError:
        raise
    except (av.FFmpegError, ValueError, OSError, IndexError, ZeroDivisionError) as exc:
        raise MediaUnreadableError(f"{path.name}: {type(exc).__name__}") from exc


def _describe(container: Any, size: int) -> MediaInfo:
    demuxer = container.format.name
    videos = [s for s in container.streams.video if not _is_cover_art(s)]
    audios = list(container.streams.audio)
    if demuxer in _IMAGE_DEMUXERS or demuxer.endswith("_pipe"):
        if not videos:
            raise MediaUnreadableError("image without a picture stream")
        stream = videos[0]
        fmt = _IMAGE_CODECS.get(stream.codec_context.name)
        if fmt is None:
            raise MediaUnreadableError(f"unsupported image codec {stream.codec_context.name}")
        frame = _first_frame(container, stream)
        return MediaInfo(kind=AttachmentKind.IMAGE, format=fmt, size_bytes=size, width=frame.width,
                         height=frame.height, has_video=True)
    fmt = _container_format(container, has_video=bool(videos))
    duration = _duration(container, videos[0] if videos else (audios[0] if audios else None))
    if videos:
        stream = videos[0]
        frame = _first_frame(container, stream)
        rate = stream.average_rate or stream.guessed_rate
        fps = round(float(rate), 3) if rate else None
        return MediaInfo(kind=AttachmentKind.VIDEO, format=fmt, size_bytes=size, width=frame.width,
                         height=frame.height, duration_s=duration, fps=fps, has_video=True,
                         has_audio=bool(audios))
    if audios:
        return MediaInfo(kind=AttachmentKind.AUDIO, format=fmt, size_bytes=size, duration_s=duration,
                         has_audio=True)
    raise MediaUnreadableError(f"no audio or video stream in {demuxer}")


def _container_format(container: Any, *, has_video: bool) -> str:
    demuxer = container.format.name
    if demuxer == _MOV_DEMUXER:
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "mov"
        return "mp4" if has_video or brand not in ("m4a", "m4b") else "m4a"
    if demuxer == _MATROSKA_DEMUXER:
        return "webm" if str(container.metadata.get("doctype", "")).lower() == "webm" else "mkv"
    if demuxer in _AUDIO_DEMUXERS:
        return _AUDIO_DEMUXERS[demuxer]
    raise MediaUnreadableError(f"unsupported container {demuxer}")


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration is not None and container.duration > 0:
        return round(float(container.duration) / av.time_base, 3)
    if stream is not None and stream.duration and stream.time_base:
        return round(float(stream.duration * Fraction(stream.time_base)), 3)
    return None


def _is_cover_art(stream: Any) -> bool:
    # mp3/m4a album art shows up as a one-picture video stream.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _first_frame(container: Any, stream: Any) -> Any:
    # Decoding one frame proves the data is real (a renamed or cut file fails here).
    for frame in container.decode(stream):
        return frame
    raise MediaUnreadableError("no decodable frame")


def _first_frame_jpeg(video_path: Path, dest: Path) -> None:
    try:
        with av.open(str(video_path)) as container:
            streams = [s for s in container.streams.video if not _is_cover_art(s)]
            if not streams:
                raise MediaUnreadableError("no video stream for a cover")
            picture: Image.Image = _first_frame(container, streams[0]).to_image()
            picture.convert("RGB").save(dest, "JPEG", quality=90)
    except MediaUnreadableError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaUnreadableError(f"{video_path.name}: cover failed: {type(exc).__name__}") from exc
