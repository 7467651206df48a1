"""AttachmentPreparer with real media, the real PyAV probe and the real SSRF-safe fetcher (over an
in-process transport). The gateway is a small recording fake: it is not the thing under test."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from core.errors import ErrorKind, InputError
from core.media.inputs import AttachmentPreparer, display_name
from core.media.ports import MediaTooLargeError, MediaUnreadableError
from core.media.preflight import MediaLimits, PreflightError, VerificationError
from core.ports import PreparedInputs, VerifyResult
from core.types import Attachment, AttachmentKind, TaskType
from core.ux.preflight_text import render_violations
from tests import media_factory as mf

MB = 1024 * 1024
IMAGE, VIDEO, AUDIO = AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO
REF, I2V, FLF = TaskType.REFERENCE_IMAGE_TO_VIDEO, TaskType.IMAGE_TO_VIDEO, TaskType.FIRST_LAST_FRAME_TO_VIDEO


class RecordingGateway:
    def __init__(self, verify_status: Callable[[str], str] = lambda name: "Active") -> None:
        self.uploads: list[tuple[str, AttachmentKind, str | None, str]] = []  # (suffix, kind, type, url)
        self.verified: list[tuple[str, str]] = []
        self.verify_status = verify_status
        self.in_flight = 0
        self.max_in_flight = 0

    async def upload_file(self, path: Path, kind: AttachmentKind, content_type: str | None = None) -> str:
        digest = hashlib.sha256(await asyncio.to_thread(path.read_bytes)).hexdigest()[:12]
        url = f"https://cdn.ima.test/{digest}{path.suffix}"
        self.uploads.append((path.suffix, kind, content_type, url))
        return url

    async def verify_asset(self, url: str, name: str) -> VerifyResult:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        self.in_flight -= 1
        self.verified.append((url, name))
        status = self.verify_status(name)
        return VerifyResult(status=status, passed=status.lower() in ("active", "success"))


class LocalFetcher:
    """Platform fetcher stand-in: the attachment ref is a local path (like the console)."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        source = Path(attachment.ref)
        size = (await asyncio.to_thread(source.stat)).st_size
        if size > max_bytes:
            raise MediaTooLargeError("over", limit_bytes=max_bytes, size_bytes=size)
        self.fetched.append(attachment.name)
        return Path(await asyncio.to_thread(shutil.copy, source, dest_dir / source.name))


class Harness:
    def __init__(self, tmp: Path, *, routes: dict[str, Path] | None = None,
                 max_video_pixels: int | None = None, verify_concurrency: int = 3,
                 verify_status: Callable[[str], str] = lambda name: "Active") -> None:
        self.tmp = tmp
        self.gateway = RecordingGateway(verify_status)
        self.fetcher = LocalFetcher()
        self.stages: list[str] = []
        self.temp_dir = tmp / "work"
        served = routes or {}

        async def serve(request: httpx.Request) -> httpx.Response:
            source = served.get(request.url.path)
            return httpx.Response(200, content=source.read_bytes()) if source else httpx.Response(404)

        async def resolve(host: str, port: int) -> list[str]:
            return {"media.example.com": ["93.184.216.34"]}.get(host) or ["10.0.0.1"]

        remote = SafeRemoteFetcher(transport=httpx.MockTransport(serve), resolver=resolve)
        limits = MediaLimits.load_default(max_video_pixels=max_video_pixels)
        probe = PyAvProbe(timeout_s=30, max_bytes=200 * MB)
        self.preparer = AttachmentPreparer(self.gateway, probe, remote, limits, temp_dir=self.temp_dir,
                                           verify_concurrency=verify_concurrency)

    async def on_stage(self, stage: str) -> None:
        self.stages.append(stage)

    async def prepare(self, task: TaskType, attachments: list[Attachment],
                      model: str = "ima-pro") -> PreparedInputs:
        return await self.preparer.prepare(task, model, attachments, self.fetcher, self.on_stage)

    async def refused(self, task: TaskType, attachments: list[Attachment],
                      model: str = "ima-pro") -> PreflightError:
        with pytest.raises(PreflightError) as caught:
            await self.prepare(task, attachments, model)
        assert self.gateway.uploads == [] and self.gateway.verified == [], "nothing may be uploaded"
        assert self.stages == []
        return caught.value


def local(path: Path, kind: AttachmentKind, role: str | None = None) -> Attachment:
    return Attachment(kind=kind, name=path.name, ref=str(path), size=path.stat().st_size, role=role)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


# ---------------------------------------------------------------- the happy multimodal path

async def test_seedance_reference_bundle_with_image_video_and_audio(h: Harness) -> None:
    picture = mf.image(h.tmp / "product.png", 1024, 768)
    clip = mf.video(h.tmp / "clip.mp4", seconds=3, fps=30, width=1280, height=720)
    voice = mf.wav(h.tmp / "voice.wav", seconds=4)
    prepared = await h.prepare(REF, [local(picture, IMAGE), local(clip, VIDEO), local(voice, AUDIO)])

    assert h.stages == ["uploading", "verifying"]
    asset_urls = [u[3] for u in h.gateway.uploads if u[1] is not IMAGE or u[0] == ".png"]
    assert list(prepared.input_urls) == asset_urls and len(asset_urls) == 3
    assert [(s, k, t) for s, k, t, _ in h.gateway.uploads] == [
        (".png", IMAGE, "image/png"), (".mp4", VIDEO, "video/mp4"), (".wav", AUDIO, "audio/wav"),
        (".jpg", IMAGE, "image/jpeg")]  # the last one is the cover of clip.mp4
    refs = prepared.references
    assert refs is not None
    (image,), (video,), (audio,) = refs.images, refs.videos, refs.audios
    assert (image.width, image.height) == (1024, 768)
    assert (video.duration, video.width, video.height, video.fps) == (3, 1280, 720, 30.0)
    assert video.cover == h.gateway.uploads[3][3]
    assert audio.duration == 4
    assert sorted(name for _, name in h.gateway.verified) == ["clip", "product", "voice"]
    assert {url for url, _ in h.gateway.verified} == set(prepared.input_urls)
    assert list(h.temp_dir.iterdir()) == []  # temp files are gone


async def test_first_last_frame_roles_win_over_order(h: Harness) -> None:
    last = mf.image(h.tmp / "end.png", 800, 600)
    first = mf.image(h.tmp / "start.png", 640, 640)
    prepared = await h.prepare(FLF, [local(last, IMAGE, "last_frame"), local(first, IMAGE, "first_frame")])
    assert prepared.references is not None
    assert [i.width for i in prepared.references.images] == [640, 800]
    assert list(prepared.input_urls) == [i.url for i in prepared.references.images]


async def test_other_models_upload_without_bundle_or_verification(h: Harness) -> None:
    picture = mf.image(h.tmp / "a.jpg", 200, 100, fmt="JPEG")
    prepared = await h.prepare(I2V, [local(picture, IMAGE)], "wan2.6-i2v")
    assert prepared.references is None and len(prepared.input_urls) == 1
    assert h.stages == ["uploading"] and h.gateway.verified == []


async def test_any_model_reference_with_video_uses_the_multimodal_rules(h: Harness) -> None:
    ok = await h.prepare(REF, [local(mf.video(h.tmp / "v.mp4", seconds=2), VIDEO)], "kling-video-o1")
    assert ok.references is not None and ok.references.videos[0].cover
    assert h.gateway.verified == []  # compliance is for Seedance only
    long_clip = mf.video(h.tmp / "long.mp4", seconds=16)
    fresh = Harness(h.tmp / "second")
    error = await fresh.refused(REF, [local(long_clip, VIDEO)], "kling-video-o1")
    assert [(v.file, v.what) for v in error.violations] == [
        ("long.mp4", "duration"), ("", "total_video_duration")]


async def test_text_only_tasks_ignore_attachments(h: Harness) -> None:
    prepared = await h.prepare(TaskType.TEXT_TO_VIDEO, [local(mf.image(h.tmp / "a.png", 400, 400), IMAGE)])
    assert prepared == PreparedInputs() and h.fetcher.fetched == []


# ---------------------------------------------------------------- the "Bad input" list

async def test_ten_images_are_refused_before_anything_is_fetched(h: Harness) -> None:
    pictures = [local(mf.image(h.tmp / f"p{i}.png", 400, 400), IMAGE) for i in range(10)]
    error = await h.refused(REF, pictures)
    assert [(v.what, v.value, v.allowed) for v in error.violations] == [("image_count", "10", "≤ 9")]
    assert h.fetcher.fetched == []


@pytest.mark.parametrize(("build", "kind", "what"), [
    (lambda d: mf.video(d / "forty.mp4", seconds=40), VIDEO, "duration"),
    (lambda d: mf.image(d / "dot.png", 1, 1), IMAGE, "width"),
    (lambda d: mf.text_as(d / "notes.mp4"), VIDEO, "unreadable"),
    (lambda d: mf.truncated_video(d / "cut.mp4"), VIDEO, "unreadable"),
    (lambda d: mf.truncated_video(d / "cut2.mp4", seconds=4, faststart=True), VIDEO, "unreadable"),
    (lambda d: mf.wav(d / "blip.wav", seconds=0.5), AUDIO, "duration"),
], ids=["40s-clip", "1x1-image", "text-renamed-mp4", "truncated-mp4", "truncated-faststart-mp4",
        "half-second-audio"])
async def test_bad_files_are_refused_before_upload(h: Harness, build: Callable[[Path], Path],
                                                   kind: AttachmentKind, what: str) -> None:
    path = build(h.tmp)
    error = await h.refused(REF, [local(path, kind)])
    assert (path.name, what) in {(v.file, v.what) for v in error.violations}
    for language in ("zh", "en"):
        assert path.name in render_violations(error.violations, language)


@pytest.mark.parametrize("url", ["http://127.0.0.1/a.png", "http://169.254.169.254/latest/meta-data/",
                                 "http://localhost/clip.mp4", "https://intranet.example.com/a.png"])
async def test_internal_urls_are_refused(h: Harness, url: str) -> None:
    error = await h.refused(I2V, [Attachment(kind=IMAGE, name=url, ref=url)])
    (violation,) = error.violations
    assert violation.what.startswith("url_") and violation.fix == "media.fix.public_url"


async def test_every_problem_in_one_message(h: Harness) -> None:
    bundle = [local(mf.image(h.tmp / "dot.png", 1, 1), IMAGE),
              local(mf.video(h.tmp / "forty.mp4", seconds=40), VIDEO),
              local(mf.wav(h.tmp / "blip.wav", seconds=0.5), AUDIO),
              local(mf.text_as(h.tmp / "notes.mp4"), VIDEO)]
    error = await h.refused(REF, bundle)
    assert {v.file for v in error.violations} >= {"dot.png", "forty.mp4", "blip.wav", "notes.mp4"}
    text = render_violations(error.violations, "en")
    assert "40.0 s" in text and "2–15 s" in text and "0.5 s" in text and "1 px" in text
    assert "notes.mp4: the file can't be read" in text


# ---------------------------------------------------------------- compliance verification

async def test_failed_verification_stops_with_a_translated_message(tmp_path: Path) -> None:
    h = Harness(tmp_path, verify_status=lambda name: "failed" if name == "face" else "Active")
    pictures = [local(mf.image(tmp_path / n, 640, 640), IMAGE) for n in ("face.png", "car.png")]
    with pytest.raises(VerificationError) as caught:
        await h.prepare(REF, pictures)
    error = caught.value
    assert error.kind is ErrorKind.VERIFY_FAILED
    assert [(v.file, v.what, v.value) for v in error.violations] == [("face.png", "compliance", "failed")]
    assert h.stages == ["uploading", "verifying"]
    assert "face.png" in render_violations(error.violations, "zh")
    assert render_violations(error.violations, "en").startswith("IMA's content compliance check did not pass")


@pytest.mark.parametrize(("status", "passes"), [("Active", True), ("success", True), ("weird", False),
                                                ("failed", False)])
async def test_only_active_or_success_passes(tmp_path: Path, status: str, passes: bool) -> None:
    h = Harness(tmp_path, verify_status=lambda name: status)
    attachments = [local(mf.image(tmp_path / "a.png", 640, 640), IMAGE)]
    if passes:
        assert len((await h.prepare(I2V, attachments)).input_urls) == 1
    else:
        with pytest.raises(VerificationError):
            await h.prepare(I2V, attachments)


@pytest.mark.parametrize("status", ["processing", ""])
async def test_a_check_still_in_progress_is_asked_again_until_it_settles(tmp_path: Path, status: str) -> None:
    answers = iter([status, status, "Active"])
    h = Harness(tmp_path, verify_status=lambda name: next(answers))
    attachments = [local(mf.image(tmp_path / "a.png", 640, 640), IMAGE)]
    assert len((await h.prepare(I2V, attachments)).input_urls) == 1
    assert len(h.gateway.verified) == 3


async def test_a_check_that_never_settles_is_reported_as_in_progress_not_raw(tmp_path: Path) -> None:
    h = Harness(tmp_path, verify_status=lambda name: "processing")
    attachments = [local(mf.image(tmp_path / "a.png", 640, 640), IMAGE)]
    with pytest.raises(InputError) as caught:
        await h.prepare(I2V, attachments)
    assert caught.value.kind is ErrorKind.VERIFY_PENDING
    assert not isinstance(caught.value, VerificationError)
    assert len(h.gateway.verified) == 11  # bounded: the first ask and ten more


async def test_verification_runs_concurrently_but_bounded(tmp_path: Path) -> None:
    h = Harness(tmp_path, verify_concurrency=2)
    pictures = [local(mf.image(tmp_path / f"p{i}.png", 640, 640 + i * 2), IMAGE) for i in range(6)]
    await h.prepare(REF, pictures)
    assert len(h.gateway.verified) == 6 and h.gateway.max_in_flight == 2


# ---------------------------------------------------------------- remote URLs

async def test_public_url_is_kept_but_still_probed_and_covered(tmp_path: Path) -> None:
    clip = mf.video(tmp_path / "clip.mp4", seconds=2, width=640, height=640)
    h = Harness(tmp_path, routes={"/clips/clip.mp4": clip})
    url = "https://media.example.com/clips/clip.mp4"
    prepared = await h.prepare(REF, [Attachment(kind=VIDEO, name="clip.mp4", ref=url)])
    assert prepared.input_urls == (url,)
    assert prepared.references is not None
    (video,) = prepared.references.videos
    assert (video.url, video.duration, video.width, video.fps) == (url, 2, 640, 24.0)
    assert [u[0] for u in h.gateway.uploads] == [".jpg"]  # only the cover was uploaded
    assert h.gateway.verified == [(url, "clip")]


async def test_url_with_a_query_string_is_uploaded_not_passed_on(tmp_path: Path) -> None:
    picture = mf.image(tmp_path / "a.png", 640, 640)
    h = Harness(tmp_path, routes={"/a.png": picture})
    signed = "https://media.example.com/a.png?Expires=1&Signature=abc"
    prepared = await h.prepare(I2V, [Attachment(kind=IMAGE, name=signed, ref=signed)])
    assert prepared.input_urls == (h.gateway.uploads[0][3],)
    assert all("Signature" not in name for _, name in h.gateway.verified)


async def test_url_names_in_messages_never_carry_queries_or_credentials(h: Harness) -> None:
    url = "https://bob:pw@media.example.com/x.png?token=secret"
    error = await h.refused(I2V, [Attachment(kind=IMAGE, name=url, ref=url)])
    text = render_violations(error.violations, "en")
    assert "secret" not in text and "pw" not in text and "media.example.com/x.png" in text


async def test_missing_remote_file_is_a_download_problem(h: Harness) -> None:
    url = "https://media.example.com/gone.png"
    error = await h.refused(I2V, [Attachment(kind=IMAGE, name="gone.png", ref=url)])
    assert [(v.file, v.what) for v in error.violations] == [("gone.png", "download")]


async def test_extensionless_url_gets_its_kind_from_the_probe(tmp_path: Path) -> None:
    picture = mf.image(tmp_path / "a.png", 640, 480)
    h = Harness(tmp_path, routes={"/image": picture})
    prepared = await h.prepare(I2V, [Attachment(kind=AttachmentKind.OTHER, name="image",
                                                ref="https://media.example.com/image")])
    assert prepared.references is not None and prepared.references.images[0].height == 480


# ---------------------------------------------------------------- real media at each boundary

BOUNDARIES = [
    # (name, build inside, build outside, kind, violation)
    ("video-duration-min", lambda d: mf.video(d / "v.mp4", seconds=2),
     lambda d: mf.video(d / "v.mp4", seconds=1.9), VIDEO, "duration"),
    ("video-duration-max", lambda d: mf.video(d / "v.mp4", seconds=15),
     lambda d: mf.video(d / "v.mp4", seconds=15.1), VIDEO, "duration"),
    ("video-fps-min", lambda d: mf.video(d / "v.mp4", seconds=2, fps=24),
     lambda d: mf.video(d / "v.mp4", seconds=2, fps=24000 / 1001), VIDEO, "fps"),
    ("video-fps-max", lambda d: mf.video(d / "v.mp4", seconds=2, fps=60),
     lambda d: mf.video(d / "v.mp4", seconds=2, fps=61), VIDEO, "fps"),
    ("video-pixels-min", lambda d: mf.video(d / "v.mp4", seconds=2, width=640, height=640),
     lambda d: mf.video(d / "v.mp4", seconds=2, width=640, height=638), VIDEO, "pixels"),
    ("video-pixels-max", lambda d: mf.video(d / "v.mp4", seconds=2, width=1280, height=720),
     lambda d: mf.video(d / "v.mp4", seconds=2, width=1920, height=1080), VIDEO, "pixels"),
    ("video-aspect", lambda d: mf.video(d / "v.mp4", seconds=2, width=1014, height=406),
     lambda d: mf.video(d / "v.mp4", seconds=2, width=1016, height=406), VIDEO, "aspect"),
    ("video-format", lambda d: mf.video(d / "v.mov", seconds=2, container="mov"),
     lambda d: mf.video(d / "v.mkv", seconds=2, container="matroska"), VIDEO, "format"),
    ("video-size", lambda d: mf.video(d / "v.mp4", seconds=2, pad_to=50 * MB),
     lambda d: mf.video(d / "v.mp4", seconds=2, pad_to=50 * MB + 1), VIDEO, "size"),
    ("image-side-min", lambda d: mf.image(d / "i.png", 300, 300), lambda d: mf.image(d / "i.png", 299, 300),
     IMAGE, "width"),
    ("image-side-max", lambda d: mf.image(d / "i.png", 6000, 2400),
     lambda d: mf.image(d / "i.png", 6001, 2401), IMAGE, "width"),
    ("image-aspect", lambda d: mf.image(d / "i.png", 300, 750), lambda d: mf.image(d / "i.png", 300, 751),
     IMAGE, "aspect"),
    ("image-size", lambda d: mf.image(d / "i.png", 400, 400, pad_to=30 * MB - 1),
     lambda d: mf.image(d / "i.png", 400, 400, pad_to=30 * MB), IMAGE, "size"),
    ("audio-duration-min", lambda d: mf.wav(d / "a.wav", seconds=2),
     lambda d: mf.wav(d / "a.wav", seconds=1.9), AUDIO, "duration"),
    ("audio-duration-max", lambda d: mf.mp3(d / "a.mp3", seconds=15),
     lambda d: mf.wav(d / "a.wav", seconds=15.1), AUDIO, "duration"),
    ("audio-size", lambda d: mf.wav(d / "a.wav", seconds=2, pad_to=15 * MB),
     lambda d: mf.wav(d / "a.wav", seconds=2, pad_to=15 * MB + 1), AUDIO, "size"),
]


@pytest.mark.parametrize(("inside", "outside", "kind", "what"), [b[1:] for b in BOUNDARIES],
                         ids=[b[0] for b in BOUNDARIES])
async def test_limit_boundaries_with_real_media(tmp_path: Path, inside: Callable[[Path], Path],
                                                outside: Callable[[Path], Path], kind: AttachmentKind,
                                                what: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    ok = Harness(tmp_path / "in")
    prepared = await ok.prepare(REF, [local(inside(tmp_path / "in"), kind)])
    assert len(prepared.input_urls) == 1
    bad = Harness(tmp_path / "out")
    error = await bad.refused(REF, [local(outside(tmp_path / "out"), kind)])
    assert what in {v.what for v in error.violations}


async def test_totals_with_real_media(tmp_path: Path) -> None:
    halves = [local(mf.video(tmp_path / f"h{i}.mp4", seconds=7.5), VIDEO) for i in range(2)]
    voices = [local(mf.wav(tmp_path / f"a{i}.wav", seconds=7.5), AUDIO) for i in range(2)]
    assert len((await Harness(tmp_path / "a").prepare(REF, [*halves, *voices])).input_urls) == 4
    longer = local(mf.video(tmp_path / "h9.mp4", seconds=8), VIDEO)
    louder = local(mf.wav(tmp_path / "a9.wav", seconds=8), AUDIO)
    error = await Harness(tmp_path / "b").refused(REF, [halves[0], longer, voices[0], louder])
    assert {v.what for v in error.violations} == {"total_video_duration", "total_audio_duration"}


async def test_raised_pixel_cap_accepts_1080p(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_video_pixels=92_740_800)
    clip = mf.video(tmp_path / "hd.mp4", seconds=2, width=1920, height=1080)
    prepared = await h.prepare(REF, [local(clip, VIDEO)])
    assert prepared.references is not None and prepared.references.videos[0].width == 1920


async def test_downloads_run_concurrently_but_bounded(tmp_path: Path) -> None:
    class CountingFetcher(LocalFetcher):
        def __init__(self) -> None:
            super().__init__()
            self.in_flight = 0
            self.max_in_flight = 0

        async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            for _ in range(5):
                await asyncio.sleep(0)
            try:
                return await super().fetch(attachment, dest_dir, max_bytes)
            finally:
                self.in_flight -= 1

    h = Harness(tmp_path)
    fetcher = CountingFetcher()
    pictures = [local(mf.image(tmp_path / f"p{i}.png", 64, 64), IMAGE) for i in range(6)]
    async with SafeRemoteFetcher() as remote:
        preparer = AttachmentPreparer(h.gateway, PyAvProbe(), remote, MediaLimits.load_default(),
                                      temp_dir=h.temp_dir, fetch_concurrency=2)
        prepared = await preparer.prepare(TaskType.IMAGE_TO_IMAGE, "doubao-seedream-4.5", pictures, fetcher,
                                          h.on_stage)
    assert len(prepared.input_urls) == 6 and fetcher.max_in_flight == 2


async def test_a_video_without_a_usable_cover_is_refused_before_upload(h: Harness) -> None:
    class NoCoverProbe(PyAvProbe):
        async def extract_cover(self, video_path: Path, dest: Path) -> Path:
            raise MediaUnreadableError("cover failed")

    preparer = AttachmentPreparer(h.gateway, NoCoverProbe(), SafeRemoteFetcher(transport=httpx.MockTransport(
        lambda r: httpx.Response(404))), MediaLimits.load_default(), temp_dir=h.temp_dir)
    clip = local(mf.video(h.tmp / "clip.mp4", seconds=2), VIDEO)
    with pytest.raises(PreflightError) as caught:
        await preparer.prepare(REF, "ima-pro", [clip], h.fetcher, h.on_stage)
    assert [(v.file, v.what) for v in caught.value.violations] == [("clip.mp4", "cover")]
    assert h.gateway.uploads == [] and h.stages == []


@pytest.mark.parametrize(("name", "ref", "shown"), [
    ("cat.png", "/home/u/cat.png", "cat.png"),
    ("", "https://u:p@cdn.example.com/a/b.mp4?sig=1", "cdn.example.com/b.mp4"),
    ("", "discord:https://cdn.discordapp.com/x/y.png?ex=1&hm=2", "y.png"),
    ("https://cdn.example.com/", "https://cdn.example.com/", "cdn.example.com"),
])
def test_display_names_never_leak_queries_or_credentials(name: str, ref: str, shown: str) -> None:
    assert display_name(Attachment(kind=IMAGE, name=name, ref=ref)) == shown


async def test_an_unaccepted_picture_format_asks_for_a_conversion(h: Harness) -> None:
    from PIL import Image

    path = h.tmp / "photo.avif"
    Image.new("RGB", (800, 600), (10, 20, 30)).save(path)
    error = await h.refused(I2V, [local(path, IMAGE)])
    assert [(v.file, v.what, v.value, v.fix) for v in error.violations] == [
        ("photo.avif", "format", "avif", "media.fix.format.image")]


async def test_files_a_fetcher_keeps_elsewhere_are_left_alone(h: Harness) -> None:
    class CachingFetcher:
        async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
            return Path(attachment.ref)  # e.g. a platform cache outside our work dir

    picture = mf.image(h.tmp / "kept.png", 640, 640)
    prepared = await h.preparer.prepare(I2V, "wan2.6-i2v", [local(picture, IMAGE)], CachingFetcher(),
                                        h.on_stage)
    assert len(prepared.input_urls) == 1 and picture.exists()
