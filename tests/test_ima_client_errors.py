"""Wire details without the simulator: headers, envelopes, the one error mapping, redaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from adapters.ima.detail import snapshot_from_detail
from adapters.ima.errors import map_api_error, mask_key, parse_retry_after, redact_text, strip_query
from core.clock import FakeClock
from core.errors import ErrorKind, ImaApiError
from core.ports import TaskProgress, TaskSpec
from core.types import MediaType, TaskType
from tests import ima_catalog_data as data

KEY = "ima_wire_0123456789abcdefSECRET"
Handler = Callable[[httpx.Request], httpx.Response]


def client_with(handler: Handler, clock: FakeClock, **cfg: Any) -> ImaClient:
    config = ImaClientConfig(
        base_url="https://api.test", upload_base_url="https://up.test", api_key=KEY, **cfg
    )
    return ImaClient(config, transport=httpx.MockTransport(handler), clock=clock)


def envelope(data: Any, code: int = 0, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": "success", "data": data}, headers=headers)


# ---------------------------------------------------------------- mapping table


@pytest.mark.parametrize(
    ("http", "code", "message", "kind"),
    [
        (200, 401, "Unauthorized", ErrorKind.AUTH),
        (401, None, "", ErrorKind.AUTH),
        (200, None, "API key unauthorized", ErrorKind.AUTH),
        (200, 4008, "Insufficient points", ErrorKind.INSUFFICIENT_POINTS),
        (200, 4014, "requires a subscription", ErrorKind.SUBSCRIPTION_REQUIRED),
        (200, 6006, "credit mismatch", ErrorKind.CREDIT_MISMATCH),
        (200, 6009, "No exact rule match", ErrorKind.NO_RULE),
        (200, 6010, "Attribute ID does not match the calculated rule", ErrorKind.ATTRIBUTE_MISMATCH),
        (200, 400, "Invalid parameter", ErrorKind.BAD_PARAMS),
        (200, 400017, "err_code=400017 err_msg=Invalid value for model", ErrorKind.BAD_PARAMS),
        (200, 99999, "Invalid product attribute", ErrorKind.BAD_PARAMS),
        (429, None, "Too Many Requests", ErrorKind.RATE_LIMITED),
        (200, 429, "", ErrorKind.RATE_LIMITED),
        (503, None, "", ErrorKind.UNAVAILABLE),
        (200, 500, "Internal Server Error", ErrorKind.SERVER_ERROR),
        (500, None, "", ErrorKind.SERVER_ERROR),
        (500, 6009, "", ErrorKind.NO_RULE),  # the body code is the source of truth
        (200, "6010", "", ErrorKind.ATTRIBUTE_MISMATCH),
        (418, None, "", ErrorKind.BAD_PARAMS),
        (200, 12345, "something odd", ErrorKind.INTERNAL),
    ],
)
def test_one_mapping_from_status_code_and_message(
    http: int, code: Any, message: str, kind: ErrorKind
) -> None:
    err = map_api_error(http, code, message)
    assert err.kind is kind
    assert err.code == (int(code) if code is not None else http)


def test_mapped_errors_never_carry_the_key_or_signatures() -> None:
    err = map_api_error(
        200, 500, f"bad key {KEY} at https://oss.test/put/a.png?Signature=abc&Expires=1", secrets=[KEY]
    )
    text = f"{err} {err!r} {err.detail} {err.params}"
    assert KEY not in text and "Signature" not in text
    assert mask_key(KEY) in err.detail
    assert "https://oss.test/put/a.png" in err.detail


def test_redaction_helpers() -> None:
    assert mask_key("ima_abcdefghijklmnop") == "ima_abcdef..."
    assert mask_key("short") == "***"
    assert strip_query("https://x.test/a.mp4?Signature=s#frag") == "https://x.test/a.mp4"
    assert redact_text("see https://a.test/x?sig=1 and KEYKEYKEYKEYKEY", ["KEYKEYKEYKEYKEY"]) == (
        "see https://a.test/x and KEYKEYKEYK..."
    )


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7", 0) == 7
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", 1_767_225_600) == 30
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None


# ---------------------------------------------------------------- wire


async def test_headers_envelope_and_config_repr(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope([data.group("Wan", data.wan_t2v())], code=200)

    async with client_with(handler, clock, language="zh") as client:
        leaves = await client.list_products(TaskType.TEXT_TO_VIDEO)
        assert KEY not in repr(client) and mask_key(KEY) in repr(client)
    assert [leaf.model_id for leaf in leaves] == ["wan2.6-t2v"]
    (request,) = seen
    assert request.url.path == "/open/v1/product/list"
    assert dict(request.url.params) == {"app": "ima", "platform": "web", "category": "text_to_video"}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-app-source"] == "ima_skills"
    assert request.headers["x_app_language"] == "zh"
    assert request.headers["user-agent"].startswith("imabot/")
    config = ImaClientConfig(base_url="b", upload_base_url="u", api_key=KEY)
    assert KEY not in repr(config) and KEY not in str(config)


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (httpx.Response(200, content=b"<html>gateway</html>"), ErrorKind.PROTOCOL),
        (httpx.Response(200, content=b'{"code": 0, "data": {"medias": ['), ErrorKind.PROTOCOL),
        (httpx.Response(200, json=["no", "envelope"]), ErrorKind.PROTOCOL),
        (httpx.Response(200, content=b"[" * 200_000 + b"]" * 200_000), ErrorKind.PROTOCOL),
        (httpx.Response(200, content=b"\xff\xfe{"), ErrorKind.PROTOCOL),
        (httpx.Response(502, content=b"<html>Bad Gateway</html>"), ErrorKind.SERVER_ERROR),
        (httpx.Response(503, content=b""), ErrorKind.UNAVAILABLE),
        (httpx.Response(429, content=b"", headers={"Retry-After": "12"}), ErrorKind.RATE_LIMITED),
        (httpx.Response(500, json={"code": 0, "data": {}}), ErrorKind.SERVER_ERROR),
        (httpx.Response(200, json={"code": 404, "message": "Task not found"}), ErrorKind.TASK_NOT_FOUND),
        (httpx.Response(404, content=b"not here"), ErrorKind.TASK_NOT_FOUND),
    ],
)
async def test_poll_replies_that_are_not_clean_envelopes_are_typed(
    clock: FakeClock, response: httpx.Response, kind: ErrorKind
) -> None:
    async with client_with(lambda _: response, clock) as client:
        with pytest.raises(ImaApiError) as info:
            await client.get_task("t-1")
    assert info.value.kind is kind
    if kind is ErrorKind.RATE_LIMITED:
        assert info.value.retry_after == 12


@pytest.mark.parametrize(
    ("exc", "create_kind", "poll_kind"),
    [
        (httpx.ConnectError("refused"), ErrorKind.NETWORK, ErrorKind.NETWORK),
        (httpx.ConnectTimeout("slow"), ErrorKind.NETWORK, ErrorKind.NETWORK),
        (httpx.ReadTimeout("slow"), ErrorKind.CREATE_TIMED_OUT, ErrorKind.NETWORK),
        (httpx.WriteTimeout("slow"), ErrorKind.CREATE_TIMED_OUT, ErrorKind.NETWORK),
        (httpx.ReadError("reset"), ErrorKind.CREATE_UNCONFIRMED, ErrorKind.NETWORK),
        (httpx.RemoteProtocolError("truncated"), ErrorKind.CREATE_UNCONFIRMED, ErrorKind.PROTOCOL),
    ],
)
async def test_transport_errors(
    clock: FakeClock, exc: Exception, create_kind: ErrorKind, poll_kind: ErrorKind
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("product/list"):
            return envelope([data.wan_t2v()])
        raise exc

    async with client_with(handler, clock) as client:
        with pytest.raises(ImaApiError) as created:
            await client.create_task(TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "x"))
        with pytest.raises(ImaApiError) as polled:
            await client.get_task("t-1")
    assert (created.value.kind, polled.value.kind) == (create_kind, poll_kind)


async def test_attribute_id_zero_is_refused_before_create(clock: FakeClock) -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return envelope([data.leaf("zero", "Zero", form=[], rules=[data.default_rule(0, 5)])])

    async with client_with(handler, clock) as client:
        with pytest.raises(ImaApiError) as info:
            await client.create_task(TaskSpec(TaskType.TEXT_TO_VIDEO, "zero", "x"))
    assert info.value.kind is ErrorKind.BAD_PARAMS
    assert paths == ["/open/v1/product/list"]


async def test_create_reply_without_id_is_lost_not_retried(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("product/list"):
            return envelope([data.wan_t2v()])
        return envelope({"biz_id": "b-1"})

    async with client_with(handler, clock) as client:
        with pytest.raises(ImaApiError) as info:
            await client.create_task(TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "x"))
    assert info.value.kind is ErrorKind.CREATE_UNCONFIRMED


async def test_create_body_is_the_built_payload_with_the_spec_language(clock: FakeClock) -> None:
    bodies: list[dict[str, Any]] = []
    languages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("product/list"):
            return envelope([data.kling_o1()])
        bodies.append(json.loads(request.content))
        languages.append(request.headers["x_app_language"])
        return envelope({"id": "task-9", "biz_id": "b"})

    async with client_with(handler, clock) as client:
        created = await client.create_task(
            TaskSpec(
                TaskType.TEXT_TO_VIDEO, "Kling-Video-O1", "狐狸", params={"quality": "1080p"}, language="zh"
            )
        )
    assert created.task_id == "task-9"
    inner = bodies[0]["parameters"][0]["parameters"]
    assert (inner["mode"], inner["prompt"], inner["cast"]) == (
        "pro",
        "狐狸",
        {"points": 60, "attribute_id": 2314},
    )
    assert languages == ["zh"]


# ---------------------------------------------------------------- detail semantics (facts §6.2)


def media(
    rs: Any = 1, status: str = "success", url: str = "https://cdn.test/v.mp4", **extra: Any
) -> dict[str, Any]:
    return {"resource_status": rs, "status": status, "url": url, **extra}


@pytest.mark.parametrize(
    ("medias", "progress"),
    [
        ([], TaskProgress.PENDING),
        ([media(rs=None, status="pending", url="")], TaskProgress.PENDING),
        ([media(rs="", status="processing", url="")], TaskProgress.RUNNING),
        ([media(rs=0, status="processing", url="")], TaskProgress.RUNNING),
        ([media(), media(rs=0, url="")], TaskProgress.RUNNING),
        ([media(url="")], TaskProgress.RUNNING),
        ([media(url="", watermark_url="https://cdn.test/w.mp4")], TaskProgress.SUCCEEDED),
        ([media(url="", preview_url="https://cdn.test/p.mp4")], TaskProgress.SUCCEEDED),
        ([media(), media(rs=2, error_msg="nsfw")], TaskProgress.FAILED),
        ([media(rs=0), media(rs=3)], TaskProgress.DELETED),
        ([media(status="failed", remark="bad")], TaskProgress.FAILED),
        ([media(status="completed")], TaskProgress.SUCCEEDED),
    ],
)
def test_detail_semantics(medias: list[dict[str, Any]], progress: TaskProgress) -> None:
    snap = snapshot_from_detail("t", {"task_type": "text_to_video", "medias": medias})
    assert snap.progress is progress


def test_detail_failure_reason_and_media_fields() -> None:
    failed = snapshot_from_detail("t", {"medias": [media(rs=2, error_msg="", remark="policy")]})
    assert failed.failure_reason == "policy"
    signed = snapshot_from_detail(
        "t", {"medias": [media(rs=2, error_msg="bad https://o.test/a.png?Signature=x")]}
    )
    assert signed.failure_reason == "bad https://o.test/a.png"
    done = snapshot_from_detail(
        "t",
        {
            "task_type": "text_to_music",
            "medias": [
                media(url="https://cdn.test/a.mp3", duration_str="12s", format="mp3"),
                media(url="https://cdn.test/b.mp3", duration_str="60s", cover_url="https://cdn.test/c.jpg"),
            ],
        },
    )
    assert [m.url for m in done.medias] == ["https://cdn.test/a.mp3", "https://cdn.test/b.mp3"]
    assert [m.duration_s for m in done.medias] == [12.0, 60.0]
    assert done.medias[0].kind is MediaType.MUSIC
    assert done.medias[1].cover_url == "https://cdn.test/c.jpg"
    video = snapshot_from_detail(
        "t", {"medias": [media(cover="https://cdn.test/c.jpg", width=1280, height=720)]}
    )
    assert video.medias[0].kind is MediaType.VIDEO
    assert (video.medias[0].cover_url, video.medias[0].width) == ("https://cdn.test/c.jpg", 1280)
    assert snapshot_from_detail("t", None).progress is TaskProgress.PENDING


async def test_6006_after_a_price_change_rereads_the_list_and_succeeds(clock: FakeClock) -> None:
    lists: list[int] = []
    credits: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("product/list"):
            lists.append(1)
            node = data.wan_t2v()
            if len(lists) > 1:  # the price went up meanwhile
                node["credit_rules"] = [{**r, "points": r["points"] + 5} for r in node["credit_rules"]]
            return envelope([node])
        credits.append(json.loads(request.content)["parameters"][0]["credit"])
        if len(credits) == 1:
            return envelope(None, code=6006)
        return envelope({"id": "task-2"})

    async with client_with(handler, clock) as client:
        created = await client.create_task(TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "x"))
    assert (created.attempts, created.quote.credit, credits) == (2, 45, [40, 45])
    assert created.adjustments == ("credit:40->45",)
    assert len(lists) == 2


async def test_bare_http_500_on_create_is_not_answered_with_another_create(clock: FakeClock) -> None:
    creates: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("product/list"):
            return envelope([data.wan_t2v()])
        creates.append(1)
        return httpx.Response(500, content=b"<html>upstream error</html>")

    async with client_with(handler, clock) as client:
        with pytest.raises(ImaApiError) as info:
            await client.create_task(
                TaskSpec(TaskType.TEXT_TO_VIDEO, "wan2.6-t2v", "x", params={"duration": 15})
            )
    assert info.value.kind is ErrorKind.SERVER_ERROR
    assert len(creates) == 1
