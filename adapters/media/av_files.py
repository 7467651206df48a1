"""The blocking half of ``adapters.media.probe``: Pillow and PyAV reading one file, run in a worker
thread. Kept apart so that importing the probe does not load PyAV (~tens of MB, imported only when the
first attachment is checked)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, UnidentifiedImageError

from core.media.ports import MediaInfo, MediaUnreadableError
from core.types import AttachmentKind

TAIL_SECONDS = 2.0  # last frame: seek this far before the end, then decode to the end
_MICROS = 1_000_000

_PIL_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff",
                "GIF": "gif"}
# Plugins tried when opening (a JPEG with several pictures opens through JPEG and reports "MPO").
_PIL_OPENERS = ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"]
# FFmpeg names of those formats: a file FFmpeg calls one of these but Pillow could not open is broken.
_PIL_CODECS = frozenset({"mjpeg", "jpeg", "png", "webp", "bmp", "tiff", "gif"})
_AUDIO_DEMUXERS = {"wav": "wav", "mp3": "mp3", "ogg": "ogg", "flac": "flac", "aac": "aac"}
_MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
# ISO-BMFF brands of still pictures (HEIF / AVIF) that the mov demuxer also opens.
_STILL_BRANDS = {"heic": "heic", "heix": "heic", "heim": "heic", "heis": "heic", "mif1": "heif",
                 "msf1": "heif", "avif": "avif", "avis": "avif"}
_MATROSKA_DEMUXER = "matroska,webm"
_WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "libdav1d", "libvpx", "libvpx-vp9", "opus", "libopus",
                          "vorbis", "libvorbis"})
# A clip whose packets end this much before its header's duration was cut short.
_TRUNCATION_TOLERANCE = 0.9


def probe_file(path: Path, size: int, max_decode_pixels: int) -> MediaInfo:
    if size == 0:
        raise MediaUnreadableError(f"{path.name}: empty file")
    picture = _probe_picture(path, size, max_decode_pixels)
    if picture is not None:
        return picture
    try:
        with av.open(str(path)) as container:
            return _describe(container, size, max_decode_pixels)
    except MediaUnreadableError:
        raise
    except (av.FFmpegError, ValueError, OSError, IndexError, ZeroDivisionError) as exc:
        raise MediaUnreadableError(f"{path.name}: {type(exc).__name__}") from exc


def _probe_picture(path: Path, size: int, max_decode_pixels: int) -> MediaInfo | None:
    """Image facts from the header, then a full decode when that is safe; None if not a picture."""
    try:
        # Only the formats we accept: Pillow's looser plugins (e.g. TGA) could claim a video file.
        with Image.open(path, formats=_PIL_OPENERS) as picture:
            fmt = _PIL_FORMATS.get(picture.format or "")
            if fmt is None:
                raise MediaUnreadableError(f"{path.name}: unsupported image format {picture.format}")
            width, height = picture.size
            if 0 < width * height <= max_decode_pixels:
                picture.load()  # a cut or corrupt file fails here
    except UnidentifiedImageError:
        return None
    except MediaUnreadableError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MediaUnreadableError(f"{path.name}: {type(exc).__name__}") from exc
    return MediaInfo(kind=AttachmentKind.IMAGE, format=fmt, size_bytes=size, width=width, height=height,
                     has_video=True)


def _describe(container: Any, size: int, max_decode_pixels: int) -> MediaInfo:
    videos = [s for s in container.streams.video if not _is_cover_art(s)]
    audios = list(container.streams.audio)
    if not videos and not audios:
        raise MediaUnreadableError(f"no audio or video stream in {container.format.name}")
    still = _still_image_format(container)
    if still in _PIL_CODECS:
        raise MediaUnreadableError(f"looks like {still} but Pillow could not read it")
    if still is not None and videos:
        # A picture format we do not accept (HEIC, AVIF, ICO, TGA...): report it as an image so the
        # user hears "convert it to JPG/PNG" rather than "damaged".
        context = videos[0].codec_context
        return MediaInfo(kind=AttachmentKind.IMAGE, format=still, size_bytes=size,
                         width=context.width or None, height=context.height or None, has_video=True)
    fmt = _container_format(container, has_video=bool(videos))
    main = videos[0] if videos else audios[0]
    duration = _checked_duration(container, main)
    if not videos:
        return MediaInfo(kind=AttachmentKind.AUDIO, format=fmt, size_bytes=size, duration_s=duration,
                         has_audio=True)
    stream = videos[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height or width * height <= max_decode_pixels:
        container.seek(0)
        frame = _first_frame(container, stream)
        width, height = frame.width, frame.height
    rate = stream.average_rate or stream.guessed_rate
    return MediaInfo(kind=AttachmentKind.VIDEO, format=fmt, size_bytes=size, width=width, height=height,
                     duration_s=duration, fps=round(float(rate), 3) if rate else None, has_video=True,
                     has_audio=bool(audios))


def _still_image_format(container: Any) -> str | None:
    demuxer = container.format.name
    if demuxer == _MOV_DEMUXER:
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        return _STILL_BRANDS.get(brand)
    if demuxer in ("image2", "ico", "apng") or demuxer.endswith("_pipe"):
        streams = container.streams.video
        if demuxer == "image2" and streams:
            return str(streams[0].codec_context.name)
        return str(demuxer.split("_")[0])
    return None


def _container_format(container: Any, *, has_video: bool) -> str:
    demuxer = container.format.name
    if demuxer == _MOV_DEMUXER:
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "mov"
        return "mp4" if has_video or brand not in ("m4a", "m4b") else "m4a"
    if demuxer == _MATROSKA_DEMUXER:
        # FFmpeg does not expose the EBML doctype; WebM is Matroska limited to these codecs.
        codecs = {str(s.codec_context.name) for s in container.streams if s.type in ("video", "audio")}
        return "webm" if codecs and codecs <= _WEBM_CODECS else "mkv"
    if demuxer in _AUDIO_DEMUXERS:
        return _AUDIO_DEMUXERS[demuxer]
    raise MediaUnreadableError(f"unsupported container {demuxer}")


def _checked_duration(container: Any, stream: Any) -> float | None:
    """The header's duration, after reading every packet of ``stream`` (no decoding) to prove the
    data is really there; a clip without a header duration gets the measured one."""
    raw = container.duration
    declared = float(raw) / av.time_base if raw is not None and raw > 0 else None
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        end = max(end, float((packet.pts + (packet.duration or 0)) * Fraction(packet.time_base)))
    if declared is None:
        return round(end, 3) if end > 0 else None
    if end < declared * _TRUNCATION_TOLERANCE:
        raise MediaUnreadableError(f"data ends at {end:.2f}s of {declared:.2f}s")
    return round(declared, 3)


def _is_cover_art(stream: Any) -> bool:
    # mp3/m4a album art shows up as a one-picture video stream.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _first_frame(container: Any, stream: Any) -> Any:
    # Decoding one frame proves the codec data is real (a renamed or corrupt file fails here).
    for frame in container.decode(stream):
        return frame
    raise MediaUnreadableError("no decodable frame")


def first_frame_jpeg(video_path: Path, dest: Path, max_decode_pixels: int) -> None:
    try:
        with av.open(str(video_path)) as container:
            streams = [s for s in container.streams.video if not _is_cover_art(s)]
            if not streams:
                raise MediaUnreadableError("no video stream for a cover")
            context = streams[0].codec_context
            if context.width * context.height > max_decode_pixels:
                raise MediaUnreadableError(f"frame too large to decode: {context.width}x{context.height}")
            picture: Image.Image = _first_frame(container, streams[0]).to_image()
            picture.convert("RGB").save(dest, "JPEG", quality=90)
    except MediaUnreadableError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaUnreadableError(f"{video_path.name}: cover failed: {type(exc).__name__}") from exc


def last_frame_jpeg(video_path: Path, dest: Path, max_decode_pixels: int) -> Path:
    """Write the last decodable frame of ``video_path`` to ``dest`` (JPEG): seek close to the end first
    (a long clip is not decoded from the start)."""
    try:
        with av.open(str(video_path)) as container:
            if not container.streams.video:
                raise MediaUnreadableError("no video stream")
            stream = container.streams.video[0]
            context = stream.codec_context
            if context.width * context.height > max_decode_pixels:
                raise MediaUnreadableError(f"frame too large to decode: {context.width}x{context.height}")
            if container.duration and container.duration > TAIL_SECONDS * _MICROS:
                tail = int(container.duration - TAIL_SECONDS * _MICROS)
                container.seek(tail, backward=True, any_frame=False)
            last = None
            for frame in container.decode(stream):
                last = frame
            if last is None:
                raise MediaUnreadableError("no decodable frame")
            picture: Image.Image = last.to_image()  # type: ignore[no-untyped-call]
            picture.convert("RGB").save(dest, "JPEG", quality=92)
            return dest
    except MediaUnreadableError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaUnreadableError(f"{video_path.name}: last frame failed: {type(exc).__name__}") from exc
