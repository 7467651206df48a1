"""Media upload: signed token GET with the 11 parameters, streamed PUT to ``ful``, ``fdl`` returned."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.upload import file_chunks, sign, token_params
from core.clock import FakeClock
from core.errors import ErrorKind, ImaApiError, InputError
from core.types import AttachmentKind
from sim.app import create_app
from sim.config import SimConfig

KEY = "ima_upload_key_0123456789SECRET"


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and keeps them for assertions."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def setup(clock: FakeClock) -> AsyncIterator[tuple[ImaClient, Recorder, httpx.AsyncClient]]:
    app = create_app(
        SimConfig(public_base_url="http://ima.sim", upload_base_url="http://upload.sim"), clock=clock
    )
    recorder = Recorder(httpx.ASGITransport(app=app))
    cfg = ImaClientConfig(
        base_url="http://ima.sim",
        upload_base_url="http://upload.sim",
        api_key=KEY,
        max_upload_bytes=1024 * 1024,
    )
    async with (
        ImaClient(cfg, transport=recorder, clock=clock) as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as plain,
    ):
        yield client, recorder, plain


def test_sign_is_uppercase_sha1_of_the_pipe_joined_fields() -> None:
    expected = hashlib.sha1(b"webAgent|32jdskjdk320eew|1767225600|abcdef0123456789abcde").hexdigest().upper()
    assert sign("1767225600", "abcdef0123456789abcde") == expected
    assert expected.isupper() and len(expected) == 40


def test_token_params_are_exactly_the_eleven() -> None:
    params = token_params(
        KEY, AttachmentKind.VIDEO, "mov", "video/quicktime", timestamp=1767225600, nonce="n" * 21
    )
    assert list(params) == [
        "appUid",
        "appId",
        "appKey",
        "cmimToken",
        "sign",
        "timestamp",
        "nonce",
        "fService",
        "fType",
        "fSuffix",
        "fContentType",
    ]
    assert params["appUid"] == params["cmimToken"] == KEY
    assert (params["appId"], params["appKey"], params["fService"]) == (
        "webAgent",
        "32jdskjdk320eew",
        "privite",
    )
    assert (params["fType"], params["fSuffix"], params["fContentType"]) == ("video", "mov", "video/quicktime")
    assert params["timestamp"] == "1767225600"


async def test_upload_puts_the_bytes_and_returns_a_working_fdl(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, recorder, plain = setup
    caplog.set_level(logging.DEBUG)
    content = os.urandom(700 * 1024)  # several chunks
    path = tmp_path / "clip.PNG"
    path.write_bytes(content)
    fdl = await client.upload_file(path, AttachmentKind.IMAGE)
    assert fdl.startswith("http://ima.sim/_sim/files/webAgent/privite/")
    assert fdl.endswith(".png")
    fetched = await plain.get(fdl)
    assert fetched.content == content
    assert fetched.headers["content-type"] == "image/png"
    token, put = recorder.requests
    assert token.method == "GET" and "authorization" not in token.headers
    assert put.method == "PUT" and "authorization" not in put.headers
    assert put.headers["content-type"] == "image/png"
    assert put.headers["content-length"] == str(len(content))
    assert "Signature=" not in caplog.text and KEY not in caplog.text


@pytest.mark.parametrize(
    ("name", "kind", "f_type", "mime"),
    [
        ("a.mp4", AttachmentKind.VIDEO, "video", "video/mp4"),
        ("a.wav", AttachmentKind.AUDIO, "audio", "audio/wav"),
        ("noext", AttachmentKind.AUDIO, "audio", "audio/mpeg"),
        ("photo.jpg", AttachmentKind.IMAGE, "picture", "image/jpeg"),
    ],
)
async def test_file_type_and_content_type(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient],
    tmp_path: Path,
    name: str,
    kind: AttachmentKind,
    f_type: str,
    mime: str,
) -> None:
    client, recorder, _ = setup
    (tmp_path / name).write_bytes(b"\x00" * 100)
    await client.upload_file(tmp_path / name, kind)
    token = recorder.requests[0]
    assert token.url.params["fType"] == f_type
    assert token.url.params["fContentType"] == mime


async def test_over_cap_is_refused_before_any_request_or_read(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient], tmp_path: Path
) -> None:
    client, recorder, _ = setup
    path = tmp_path / "huge.mp4"
    with path.open("wb") as handle:  # sparse: size without content
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError) as info:
        await client.upload_file(path, AttachmentKind.VIDEO)
    assert info.value.code == "upload_too_large"
    assert info.value.params["limit_mb"] == "1"
    assert recorder.requests == []


@pytest.mark.parametrize(("create", "code"), [(False, "upload_missing"), (True, "upload_empty")])
async def test_missing_and_empty_files_are_refused(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient], tmp_path: Path, create: bool, code: str
) -> None:
    client, recorder, _ = setup
    path = tmp_path / "x.png"
    if create:
        path.write_bytes(b"")
    with pytest.raises(InputError) as info:
        await client.upload_file(path, AttachmentKind.IMAGE)
    assert info.value.code == code
    assert recorder.requests == []


async def test_other_kinds_cannot_be_uploaded(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient], tmp_path: Path
) -> None:
    client, _, _ = setup
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError):
        await client.upload_file(tmp_path / "a.pdf", AttachmentKind.OTHER)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("token:code=401", ErrorKind.AUTH),
        ("token:malformed", ErrorKind.PROTOCOL),
        ("upload:http=500", ErrorKind.SERVER_ERROR),
        ("upload:reset", ErrorKind.NETWORK),
        ("upload:http=403", ErrorKind.UPLOAD_REFUSED),
        ("upload:http=413", ErrorKind.UPLOAD_REFUSED),
    ],
)
async def test_upload_failures_are_typed(
    setup: tuple[ImaClient, Recorder, httpx.AsyncClient], tmp_path: Path, fault: str, kind: ErrorKind
) -> None:
    client, _, plain = setup
    await plain.post("http://ima.sim/_sim/faults", json={"faults": [fault]})
    (tmp_path / "a.png").write_bytes(b"\x89PNG" * 10)
    with pytest.raises(ImaApiError) as info:
        await client.upload_file(tmp_path / "a.png", AttachmentKind.IMAGE)
    assert info.value.kind is kind
    assert KEY not in str(info.value) and "Signature=" not in str(info.value)


async def test_file_chunks_never_exceed_the_announced_size(tmp_path: Path) -> None:
    path = tmp_path / "grow.bin"
    path.write_bytes(b"a" * 1000)
    chunks = [c async for c in file_chunks(path, 600, chunk_bytes=256)]
    assert [len(c) for c in chunks] == [256, 256, 88]
