"""The last frame of a video (PyAV), not its first frame (the cover): a continued clip starts where the
previous one ended."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from adapters.media.lastframe import last_frame_jpeg
from core.media.ports import MediaUnreadableError
from sim.media_gen import make_mp4


def bar_side(path: Path) -> str:
    """The simulator's clips move a yellow bar from the left edge (first frame) to the right (last)."""
    with Image.open(path) as picture:
        rgb = picture.convert("RGB")
        width, height = rgb.size
        left = rgb.getpixel((width // 10, height // 2))
        right = rgb.getpixel((width - width // 10, height // 2))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    return "right" if right[0] > 200 and right[1] > 150 else "left" if left[0] > 200 else "?"


@pytest.mark.parametrize("seconds", [2, 5])
def test_the_last_frame_is_the_end_of_the_clip(tmp_path: Path, seconds: int) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(make_mp4(320, 180, seconds))
    frame = last_frame_jpeg(video, tmp_path / "last.jpg", 4096 * 4096)
    assert bar_side(frame) == "right"


def test_a_file_that_is_not_a_video_is_unreadable(tmp_path: Path) -> None:
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(MediaUnreadableError):
        last_frame_jpeg(bogus, tmp_path / "last.jpg", 4096 * 4096)
