"""Real media files built on the fly (PyAV / Pillow / wave), so no binaries live in the repo."""

from __future__ import annotations

import struct
import wave
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image


def image(path: Path, width: int, height: int, *, fmt: str = "PNG", pad_to: int | None = None) -> Path:
    """An image of the given size; ``pad_to`` appends bytes after the image data (decoders ignore
    them) so the file reaches an exact size."""
    Image.new("RGB", (width, height), (90, 140, 200)).save(path, fmt)
    _pad(path, pad_to)
    return path


def video(path: Path, *, seconds: float, fps: float = 24, width: int = 640, height: int = 640,
          container: str = "mp4", pad_to: int | None = None, faststart: bool = False,
          codec: str = "libx264") -> Path:
    """An H.264 clip of ``seconds`` at ``fps``. ``pad_to`` adds an ISO-BMFF ``free`` box at the end
    (valid mp4/mov) to reach an exact file size; ``faststart`` puts the index before the data."""
    rate = Fraction(fps).limit_denominator(1001)
    frames = max(1, round(seconds * float(rate)))
    options = {"brand": "qt  "} if container == "mov" else {}
    if faststart:
        options["movflags"] = "faststart"
    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"} if codec == "libx264" else {"deadline": "realtime"}
        still = av.VideoFrame.from_image(Image.new("RGB", (width, height), (200, 80, 40)))  # type: ignore[no-untyped-call]
        for index in range(frames):
            frame = still.reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = 1 / rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    if pad_to is not None:
        extra = pad_to - path.stat().st_size
        assert extra >= 8, "pad_to is smaller than the clip"
        with path.open("ab") as fh:
            fh.write(struct.pack(">I4s", extra, b"free") + bytes(extra - 8))
    return path


def wav(path: Path, *, seconds: float, rate: int = 8000, pad_to: int | None = None) -> Path:
    """A mono 16-bit WAV; ``pad_to`` appends a RIFF ``JUNK`` chunk after the samples."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(2 * round(seconds * rate)))
    if pad_to is not None:
        extra = pad_to - path.stat().st_size
        assert extra >= 8, "pad_to is smaller than the clip"
        with path.open("ab") as fh:
            fh.write(struct.pack("<4sI", b"JUNK", extra - 8) + bytes(extra - 8))
    return path


def mp3(path: Path, *, seconds: float, rate: int = 44100) -> Path:
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        samples_per_frame = 1152
        total = round(seconds * rate)
        pts = 0
        while pts < total:
            n = min(samples_per_frame, total - pts)
            frame = av.AudioFrame(format="s16p", layout="mono", samples=n)
            frame.planes[0].update(bytes(frame.planes[0].buffer_size))
            frame.sample_rate = rate
            frame.pts = pts
            pts += n
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def huge_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A tiny file whose header promises a huge picture (a decompression bomb in miniature)."""
    Image.new("1", (width, height), 0).save(path, "PNG")
    return path


def truncated_image(path: Path, width: int = 400, height: int = 400) -> Path:
    Image.effect_noise((width, height), 60).convert("RGB").save(path, "PNG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_video(path: Path, *, seconds: float = 3, faststart: bool = False) -> Path:
    """Half a clip. With ``faststart`` the index survives the cut, so only the data is missing."""
    video(path, seconds=seconds, faststart=faststart)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_as(path: Path) -> Path:
    """A plain text file wearing a media extension (e.g. ``notes.mp4``)."""
    path.write_text("this is not a video, just some notes\n" * 20, encoding="utf-8")
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _pad(path: Path, pad_to: int | None) -> None:
    if pad_to is None:
        return
    extra = pad_to - path.stat().st_size
    assert extra >= 0, "pad_to is smaller than the file"
    with path.open("ab") as fh:
        fh.write(bytes(extra))
