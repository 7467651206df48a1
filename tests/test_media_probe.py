"""PyAvProbe against real files built on the fly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image

from adapters.media.probe import PyAvProbe
from core.media.ports import MediaTooLargeError, MediaUnreadableError
from core.types import AttachmentKind
from tests import media_factory as mf
from tests.support.ima import SIM_BASE_URL, SimHarness


@pytest.fixture
def probe() -> PyAvProbe:
    return PyAvProbe(timeout_s=15, max_bytes=60 * 1024 * 1024)


async def test_png_and_jpeg_sizes(probe: PyAvProbe, tmp_path: Path) -> None:
    png = await probe.probe(mf.image(tmp_path / "a.png", 640, 360))
    jpg = await probe.probe(mf.image(tmp_path / "b.jpg", 300, 6000, fmt="JPEG"))
    assert (png.kind, png.format, png.width, png.height) == (AttachmentKind.IMAGE, "png", 640, 360)
    assert (jpg.kind, jpg.format, jpg.width, jpg.height) == (AttachmentKind.IMAGE, "jpeg", 300, 6000)


async def test_webp_image_is_recognised(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.image(tmp_path / "c.webp", 400, 500, fmt="WEBP"))
    assert (info.format, info.width, info.height) == ("webp", 400, 500)


async def test_one_pixel_image_is_probed_not_crashed(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.image(tmp_path / "dot.png", 1, 1))
    assert (info.width, info.height) == (1, 1)


async def test_mp4_duration_fps_and_size(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.video(tmp_path / "v.mp4", seconds=3, fps=30, width=1280, height=720))
    assert info.kind is AttachmentKind.VIDEO and info.format == "mp4"
    assert (info.width, info.height, info.fps) == (1280, 720, 30.0)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.size_bytes == (tmp_path / "v.mp4").stat().st_size


async def test_mov_is_told_apart_from_mp4(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.video(tmp_path / "v.mov", seconds=2, container="mov"))
    assert info.format == "mov"


async def test_fractional_frame_rate(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.video(tmp_path / "ntsc.mp4", seconds=2, fps=24000 / 1001))
    assert info.fps == pytest.approx(23.976, abs=0.001)


async def test_wav_and_mp3_durations(probe: PyAvProbe, tmp_path: Path) -> None:
    wav = await probe.probe(mf.wav(tmp_path / "a.wav", seconds=2.5))
    mp3 = await probe.probe(mf.mp3(tmp_path / "a.mp3", seconds=4))
    assert (wav.kind, wav.format, wav.duration_s) == (AttachmentKind.AUDIO, "wav", 2.5)
    assert (mp3.kind, mp3.format) == (AttachmentKind.AUDIO, "mp3")
    assert mp3.duration_s == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize("build", [
    lambda d: mf.truncated_video(d / "cut.mp4"),
    lambda d: mf.truncated_video(d / "cut-faststart.mp4", seconds=4, faststart=True),
    lambda d: mf.truncated_image(d / "cut.png"),
    lambda d: mf.text_as(d / "notes.mp4"),
    lambda d: mf.text_as(d / "notes.png"),
    lambda d: mf.empty(d / "empty.wav"),
], ids=["truncated-mp4", "truncated-faststart-mp4", "truncated-png", "text-renamed-mp4", "text-renamed-png",
        "empty-file"])
async def test_broken_files_raise_unreadable(probe: PyAvProbe, tmp_path: Path, build: object) -> None:
    path = build(tmp_path)  # type: ignore[operator]
    with pytest.raises(MediaUnreadableError):
        await probe.probe(path)


async def test_files_over_the_byte_cap_are_not_opened(tmp_path: Path) -> None:
    path = mf.image(tmp_path / "big.png", 10, 10, pad_to=5000)
    with pytest.raises(MediaTooLargeError) as caught:
        await PyAvProbe(max_bytes=4999).probe(path)
    assert caught.value.limit_bytes == 4999 and caught.value.size_bytes == 5000


async def test_probe_time_limit_gives_unreadable(tmp_path: Path) -> None:
    path = mf.video(tmp_path / "v.mp4", seconds=2)
    with pytest.raises(MediaUnreadableError):
        await PyAvProbe(timeout_s=0).probe(path)


async def test_cover_is_first_frame_jpeg_of_video_size(probe: PyAvProbe, tmp_path: Path) -> None:
    video = mf.video(tmp_path / "v.mp4", seconds=2, width=640, height=480)
    cover = await probe.extract_cover(video, tmp_path / "cover.jpg")
    with Image.open(cover) as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 480))
        red, green, blue = picture.getpixel((320, 240))  # type: ignore[misc]
    assert red > 150 and green < 130 and blue < 100  # the clip's colour, not a black frame


async def test_cover_of_broken_video_is_unreadable(probe: PyAvProbe, tmp_path: Path) -> None:
    with pytest.raises(MediaUnreadableError):
        await probe.extract_cover(mf.text_as(tmp_path / "x.mp4"), tmp_path / "c.jpg")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_huge_pictures_are_measured_without_decoding(probe: PyAvProbe, tmp_path: Path) -> None:
    info = await probe.probe(mf.huge_bilevel_png(tmp_path / "bomb.png", 12_000, 12_000))
    assert (info.width, info.height) == (12_000, 12_000)


@pytest.mark.parametrize(("suffix", "fmt"), [(".avif", "avif"), (".ico", "ico"), (".tga", "targa")])
async def test_unaccepted_picture_formats_are_images_with_their_format(probe: PyAvProbe, tmp_path: Path,
                                                                       suffix: str, fmt: str) -> None:
    path = tmp_path / f"pic{suffix}"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(path)
    info = await probe.probe(path)
    assert (info.kind, info.format) == (AttachmentKind.IMAGE, fmt)


async def test_webm_and_mkv_are_told_apart(probe: PyAvProbe, tmp_path: Path) -> None:
    mkv = await probe.probe(mf.video(tmp_path / "a.mkv", seconds=2, container="matroska"))
    webm = await probe.probe(mf.video(tmp_path / "a.webm", seconds=2, container="webm", codec="libvpx-vp9",
                                      width=64, height=64))
    assert (mkv.format, webm.format) == ("mkv", "webm")
    assert webm.duration_s == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(("name", "kind", "duration"), [
    ("video-320x180-4s.mp4", AttachmentKind.VIDEO, 4.0), ("audio-3s.wav", AttachmentKind.AUDIO, 3.0),
    ("audio-5s.mp3", AttachmentKind.AUDIO, 5.0)])
async def test_simulator_results_are_real_media(sim: SimHarness, probe: PyAvProbe, tmp_path: Path, name: str,
                                                kind: AttachmentKind, duration: float) -> None:
    async with httpx.AsyncClient(transport=sim.transport, base_url=SIM_BASE_URL) as http:
        response = await http.get(f"/_sim/media/{name}")
    path = tmp_path / name
    path.write_bytes(response.content)
    info = await probe.probe(path)
    assert info.kind is kind and info.duration_s == pytest.approx(duration, abs=0.1)
    if kind is AttachmentKind.VIDEO:
        assert (info.width, info.height, info.fps) == (320, 180, 24.0)
