"""Real, playable media made on the fly (blocking; callers run these in a worker thread)."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import av
from PIL import Image, ImageDraw

FPS = 24
SAMPLE_RATE = 22_050


def _frame_image(width: int, height: int, index: int, total: int) -> Image.Image:
    shade = int(255 * index / max(1, total - 1))
    image = Image.new("RGB", (width, height), (30, 60 + shade // 2, 255 - shade))
    draw = ImageDraw.Draw(image)
    x = int((width - width // 5) * index / max(1, total - 1))
    draw.rectangle((x, height // 3, x + width // 5, 2 * height // 3), fill=(250, 200, 40))
    return image


def make_mp4(width: int, height: int, seconds: int) -> bytes:
    buffer = io.BytesIO()
    total = FPS * seconds
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        stream.time_base = Fraction(1, FPS)
        _encode_all(container, stream, (_video_frame(width, height, index, total) for index in range(total)))
    return buffer.getvalue()


def _video_frame(width: int, height: int, index: int, total: int) -> av.VideoFrame:
    frame: av.VideoFrame = av.VideoFrame.from_image(  # type: ignore[no-untyped-call]
        _frame_image(width, height, index, total)
    )
    frame.pts = index
    return frame


def _encode_all(container: Any, stream: Any, frames: Iterable[av.VideoFrame | av.AudioFrame]) -> None:
    """Encode every frame, then flush the encoder, muxing each packet into ``container``."""
    for frame in frames:
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def mp4_free_box(size: int) -> bytes:
    """Header of an ISO-BMFF ``free`` box of ``size`` bytes: padding that keeps the file valid."""
    return struct.pack(">I4s", size, b"free")


def make_jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    _frame_image(width, height, 0, 2).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def make_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    _frame_image(width, height, 1, 2).save(buffer, format="PNG")
    return buffer.getvalue()


def _tone(seconds: int) -> list[float]:
    return [0.3 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE) for i in range(SAMPLE_RATE * seconds)]


def _pcm16(seconds: int) -> bytes:
    tone = _tone(seconds)
    return struct.pack(f"<{len(tone)}h", *(int(s * 32767) for s in tone))


def make_wav(seconds: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(_pcm16(seconds))
    return buffer.getvalue()


def make_mp3(seconds: int) -> bytes:
    pcm = _pcm16(seconds)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=SAMPLE_RATE)
        stream.layout = "mono"
        step = 1152
        frames = (_audio_frame(pcm, start, step) for start in range(0, len(pcm) // 2, step))
        _encode_all(container, stream, frames)
    return buffer.getvalue()


def _audio_frame(pcm: bytes, start: int, samples: int) -> av.AudioFrame:
    chunk = pcm[start * 2:(start + samples) * 2]
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
    frame.planes[0].update(chunk)
    frame.sample_rate = SAMPLE_RATE
    frame.pts = start
    return frame
