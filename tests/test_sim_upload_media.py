"""Upload token (sign check), presigned PUT / public GET, asset verify, and generated media files."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import av
import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from core.clock import FakeClock
from core.types import TaskType
from sim.app import create_app
from sim.catalog import Catalog
from sim.config import SimConfig
from sim.payloads import build_create_body, find_leaf
from tests.support.sim_http import asgi_client

KEY = "ima_upload_key"
AUTH = {"Authorization": f"Bearer {KEY}"}
CATALOG = Catalog.load()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(auto=False)


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    config = SimConfig(public_base_url="http://cdn.sim", upload_base_url="http://oss.sim")
    return create_app(config, clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


def token_params(**overrides: str) -> dict[str, str]:
    timestamp, nonce = "1767225600", uuid.uuid4().hex[:21]
    sign = hashlib.sha1(f"webAgent|32jdskjdk320eew|{timestamp}|{nonce}".encode()).hexdigest().upper()
    params = {"appUid": KEY, "appId": "webAgent", "appKey": "32jdskjdk320eew", "cmimToken": KEY, "sign": sign,
              "timestamp": timestamp, "nonce": nonce, "fService": "privite", "fType": "picture",
              "fSuffix": "png", "fContentType": "image/png"}
    return {**params, **overrides}


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_upload_round_trip(client: httpx.AsyncClient) -> None:
    reply = (await client.get("/api/rest/oss/getuploadtoken", params=token_params())).json()
    assert reply["code"] == 0
    data = reply["data"]
    assert data["ful"].startswith("http://oss.sim/_sim/upload/webAgent/privite/")
    assert {"Expires", "OSSAccessKeyId", "Signature"} <= set(dict(
        p.split("=", 1) for p in urlsplit(data["ful"]).query.split("&")))
    assert data["fdl"] == f"http://cdn.sim/_sim/files/{data['fdl_key']}" and data["fdl_key"].endswith(".png")
    assert (await client.get(local(data["fdl"]))).status_code == 404  # not uploaded yet
    put = await client.put(local(data["ful"]), content=b"\x89PNG fake", headers={"Content-Type": "image/png"})
    assert put.status_code == 200
    got = await client.get(local(data["fdl"]))
    assert got.content == b"\x89PNG fake" and got.headers["content-type"] == "image/png"


@pytest.mark.parametrize("bad", [
    {"sign": "0" * 40}, {"sign": ""}, {"appKey": "other"}, {"fService": "private"}, {"fType": "doc"},
    {"appUid": "sk-1", "cmimToken": "sk-1"}, {"cmimToken": "ima_other"},
])
async def test_upload_token_rejects_bad_params(client: httpx.AsyncClient, bad: dict[str, str]) -> None:
    reply = (await client.get("/api/rest/oss/getuploadtoken", params=token_params(**bad))).json()
    assert reply["code"] != 0


async def test_lowercase_sign_is_rejected(client: httpx.AsyncClient) -> None:
    params = token_params()
    params["sign"] = params["sign"].lower()
    assert (await client.get("/api/rest/oss/getuploadtoken", params=params)).json()["code"] == 400


async def test_put_needs_the_presigned_signature(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/rest/oss/getuploadtoken", params=token_params())).json()["data"]
    forged = local(data["ful"]).replace("Signature=", "Signature=x")
    assert (await client.put(forged, content=b"x")).status_code == 403
    unknown = await client.put(f"/_sim/upload/{data['fdl_key']}x?Expires=1&Signature=a", content=b"x")
    assert unknown.status_code == 403


async def test_put_caps_size(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim import upload

    monkeypatch.setattr(upload, "MAX_UPLOAD_BYTES", 10)
    data = (await client.get("/api/rest/oss/getuploadtoken", params=token_params())).json()["data"]
    assert (await client.put(local(data["ful"]), content=b"x" * 11)).status_code == 413


async def verify(client: httpx.AsyncClient, url: str) -> Any:
    reply = (await client.post("/open/v1/assets/verify", json={"url": url, "name": "cat"},
                               headers=AUTH)).json()
    assert reply["code"] == 0
    return reply["data"]["result"]


async def test_verify_defaults_to_active(client: httpx.AsyncClient) -> None:
    result = await verify(client, "http://cdn.sim/_sim/files/x/clip.mp4")
    assert result["status"] == "Active" and result["asset_type"] == "video" and result["name"] == "cat"
    assert {"id", "url", "group_id", "error", "project_name", "create_time", "update_time"} <= set(result)


async def test_verify_outcome_per_asset(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"faults": [
        "verify:status=failed:match=face:error_msg=real person detected",
        "verify:status=processing:match=slow"]})
    bad = await verify(client, "http://cdn.sim/_sim/files/face.png")
    assert bad["status"] == "failed" and bad["error"]["message"] == "real person detected"
    assert (await verify(client, "http://cdn.sim/_sim/files/slow.png"))["status"] == "processing"
    assert (await verify(client, "http://cdn.sim/_sim/files/ok.png"))["status"] == "Active"


async def test_verify_latency_uses_the_clock(client: httpx.AsyncClient, app: Starlette) -> None:
    clock = FakeClock(auto=True)
    app.state.sim.clock = clock
    await client.post("/_sim/faults", json={"faults": ["verify:delay=120"]})
    before = clock.now()
    assert (await verify(client, "http://cdn.sim/a.png"))["status"] == "Active"
    assert clock.now() - before == pytest.approx(120)


async def finished_media(client: httpx.AsyncClient, clock: FakeClock, task_type: TaskType, version: str,
                         **kwargs: Any) -> dict[str, Any]:
    body = build_create_body(find_leaf(CATALOG, task_type, version), **kwargs)
    task_id = (await client.post("/open/v1/tasks/create", json=body, headers=AUTH)).json()["data"]["id"]
    clock.advance(3600)
    detail = await client.post("/open/v1/tasks/detail", json={"task_id": task_id}, headers=AUTH)
    media: dict[str, Any] = detail.json()["data"]["medias"][0]
    return media


async def test_video_result_is_a_real_mp4_with_cover(client: httpx.AsyncClient, clock: FakeClock) -> None:
    media = await finished_media(client, clock, TaskType.TEXT_TO_VIDEO, "kling-video-o1",
                                 overrides={"aspect_ratio": "9:16"})
    reply = await client.get(local(media["url"]))
    assert reply.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(reply.content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (media["width"], media["height"]) == (180, 320)
        assert float(stream.average_rate) == 24
        assert container.duration is not None and container.duration / 1e6 == pytest.approx(4, abs=0.1)
        assert sum(1 for _ in container.decode(video=0)) == 96
    cover = await client.get(local(media["cover"]))
    assert Image.open(io.BytesIO(cover.content)).size == (180, 320)


async def test_image_result_is_a_real_png(client: httpx.AsyncClient, clock: FakeClock) -> None:
    media = await finished_media(client, clock, TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image-preview")
    image = Image.open(io.BytesIO((await client.get(local(media["url"]))).content))
    assert image.format == "PNG" and image.size == (media["width"], media["height"]) == (512, 512)


@pytest.mark.parametrize(("task_type", "version", "codec"), [
    (TaskType.TEXT_TO_MUSIC, "GenSong", "mp3"), (TaskType.TEXT_TO_SPEECH, "seed-tts-1.1", "pcm_s16le")])
async def test_audio_results_are_real(client: httpx.AsyncClient, clock: FakeClock, task_type: TaskType,
                                      version: str, codec: str) -> None:
    media = await finished_media(client, clock, task_type, version)
    content = (await client.get(local(media["url"]))).content
    with av.open(io.BytesIO(content)) as container:
        assert container.streams.audio[0].codec_context.name.startswith(codec)
        assert container.duration is not None
        assert f"{round(container.duration / 1e6)}s" == media["duration_str"]


async def test_big_result_is_streamed_at_the_requested_size(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/_sim/media/big.mp4?mb=3") as reply:
        assert int(reply.headers["content-length"]) == 3 * 1024 * 1024
        content = b"".join([chunk async for chunk in reply.aiter_bytes()])
    assert len(content) == 3 * 1024 * 1024
    with av.open(io.BytesIO(content)) as container:
        assert container.streams.video[0].width == 320


async def test_head_reports_the_size_without_a_body(client: httpx.AsyncClient) -> None:
    reply = await client.head("/_sim/media/big.mp4?mb=40")
    assert reply.status_code == 200 and int(reply.headers["content-length"]) == 40 * 1024 * 1024
    assert reply.content == b""


async def test_unknown_media_name_is_404(client: httpx.AsyncClient) -> None:
    for name in ("nope.mp4", "video-321x180-2s.mp4", "../etc/passwd", "image-8000x8000.png", "audio-0s.wav",
                 "video-320x180-99s.mp4"):
        assert (await client.get(f"/_sim/media/{name}")).status_code == 404
