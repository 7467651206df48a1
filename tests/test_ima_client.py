"""The IMA client end to end against the in-process simulator (every create / poll / verify path and
fault). Upload has its own module; error-mapping details without the simulator are in
``test_ima_client_errors.py``; the recorded CLI cases in ``test_ima_recorded_cases.py``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.ima.client import ImaClient, ImaClientConfig
from core.clock import FakeClock
from core.errors import TRANSIENT_KINDS, ErrorKind, ImaApiError
from core.ports import ReferenceBundle, ReferenceImage, TaskProgress, TaskSnapshot, TaskSpec
from core.types import MediaType, TaskType
from sim.app import create_app
from sim.config import SimConfig

KEY = "ima_test_0123456789abcdefSECRET"
T2V = TaskType.TEXT_TO_VIDEO


@dataclass
class Sim:
    client: ImaClient
    admin: httpx.AsyncClient
    clock: FakeClock

    async def faults(self, *specs: str) -> None:
        resp = await self.admin.post("/_sim/faults", json={"faults": list(specs)})
        assert resp.status_code == 200, resp.text

    async def account(self, key: str = KEY, **values: Any) -> None:
        await self.admin.post(f"/_sim/keys/{key}", json=values)

    async def state(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.admin.get("/_sim/tasks")).json()
        return data

    async def calls(self, route: str) -> int:
        return int((await self.state())["calls"].get(route, 0))

    async def payloads(self) -> list[dict[str, Any]]:
        return [t["payload"] for t in (await self.state())["tasks"]]

    async def wait(self, task_id: str, *, interval: float = 5.0, polls: int = 500) -> TaskSnapshot:
        snap = await self.client.get_task(task_id)
        for _ in range(polls):
            if snap.progress not in (TaskProgress.PENDING, TaskProgress.RUNNING):
                return snap
            await self.clock.sleep(interval)
            snap = await self.client.get_task(task_id)
        raise AssertionError(f"task {task_id} still {snap.progress}")


def config(key: str = KEY) -> ImaClientConfig:
    return ImaClientConfig(base_url="http://ima.sim", upload_base_url="http://upload.sim", api_key=key)


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[Sim]:
    app = create_app(
        SimConfig(public_base_url="http://ima.sim", upload_base_url="http://upload.sim", speed=20.0, seed=0),
        clock=clock,
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        ImaClient(config(), transport=transport, clock=clock) as client,
        httpx.AsyncClient(transport=transport, base_url="http://ima.sim") as admin,
    ):
        yield Sim(client, admin, clock)


def spec(model_id: str, task_type: TaskType = T2V, **params: Any) -> TaskSpec:
    return TaskSpec(task_type=task_type, model_id=model_id, prompt="a red fox in snow", params=params)


# ---------------------------------------------------------------- product list


async def test_text_to_video_lists_16_leaves_of_12_models_newest_pixverse_first(sim: Sim) -> None:
    leaves = await sim.client.list_products(T2V)
    assert len(leaves) == 16
    assert len({leaf.model_id for leaf in leaves}) == 12
    pixverse = [leaf.version_id for leaf in leaves if leaf.model_id == "pixverse"]
    assert pixverse[0] == "Pixverse V5.5"


@pytest.mark.parametrize("task_type", list(TaskType))
async def test_every_category_has_priced_leaves(sim: Sim, task_type: TaskType) -> None:
    leaves = await sim.client.list_products(task_type)
    assert leaves
    assert all(leaf.category is task_type and leaf.credit_rules for leaf in leaves)


async def test_product_list_is_cached_per_category_until_the_ttl(sim: Sim) -> None:
    await sim.client.list_products(T2V)
    await sim.client.list_products(T2V)
    await sim.client.quote(spec("wan2.6-t2v"))
    assert await sim.calls("product/list") == 1
    await sim.client.list_products(TaskType.TEXT_TO_IMAGE)
    assert await sim.calls("product/list") == 2
    sim.clock.advance(601)
    await sim.client.list_products(T2V)
    assert await sim.calls("product/list") == 3


# ---------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("model_id", "params", "attribute_id", "credit"),
    [
        ("ima-pro-fast", {}, 4505, 65),
        ("ima-pro", {"duration": 15, "resolution": "480P"}, 4514, 144),
        ("doubao-seedance-1.5-pro", {}, 2084, 30),
        ("wan2.6-t2v", {}, 2058, 40),
        ("MiniMax-Hailuo-2.3", {}, 2127, 12),
        ("MiniMax-Hailuo-02", {}, 2132, 12),
        ("viduq2", {}, 2100, 15),
        ("sora-2-pro", {}, 1977, 120),
        ("kling-video-o1", {}, 2313, 48),
        ("kling-video-o1", {"quality": "1080p", "duration": 10}, 2316, 120),
        ("kling-v2-6", {}, 2330, 40),
        ("veo-3.1-generate-preview", {}, 1995, 70),
        ("pixverse", {}, 4286, 12),
    ],
)
async def test_quotes_match_the_recorded_default_rules(
    sim: Sim, model_id: str, params: dict[str, Any], attribute_id: int, credit: int
) -> None:
    quote = await sim.client.quote(spec(model_id, **params))
    assert (quote.attribute_id, quote.credit) == (attribute_id, credit)
    assert await sim.calls("tasks/create") == 0


async def test_unknown_model_names_the_available_models(sim: Sim) -> None:
    with pytest.raises(ImaApiError) as info:
        await sim.client.quote(spec("sora-99"))
    assert info.value.kind is ErrorKind.UNKNOWN_MODEL
    assert "wan2.6-t2v" in info.value.params["available"]
    assert "pixverse" in info.value.params["available"]


async def test_version_pin_picks_the_old_pixverse_only_when_asked(sim: Sim) -> None:
    quote = await sim.client.quote(TaskSpec(T2V, "pixverse", "x", version_id="Pixverse V3.5"))
    assert quote.leaf.version_id == "Pixverse V3.5"
    created = await sim.client.create_task(TaskSpec(T2V, "pixverse", "x", version_id="Pixverse V3.5"))
    inner = (await sim.payloads())[0]["parameters"][0]["parameters"]
    assert inner["model"] == "v3.5"
    assert created.quote.leaf.version_id == "Pixverse V3.5"


# ---------------------------------------------------------------- create and poll


async def test_create_and_poll_a_video_to_success(sim: Sim) -> None:
    created = await sim.client.create_task(spec("wan2.6-t2v", duration=10))
    assert created.attempts == 1 and created.adjustments == ()
    assert created.quote.attribute_id == 2060
    first = await sim.client.get_task(created.task_id)
    assert first.progress in (TaskProgress.PENDING, TaskProgress.RUNNING)
    done = await sim.wait(created.task_id)
    assert done.progress is TaskProgress.SUCCEEDED
    (media,) = done.medias
    assert media.kind is MediaType.VIDEO
    assert media.url.startswith("http://ima.sim/")
    assert media.cover_url and media.duration_s


@pytest.mark.parametrize(
    ("task_type", "model_id", "inputs", "kind"),
    [
        (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4.5", 0, MediaType.IMAGE),
        (TaskType.IMAGE_TO_IMAGE, "gemini-3.1-flash-image", 1, MediaType.IMAGE),
        (TaskType.IMAGE_TO_VIDEO, "wan2.6-i2v", 1, MediaType.VIDEO),
        (TaskType.FIRST_LAST_FRAME_TO_VIDEO, "kling-video-o1", 2, MediaType.VIDEO),
        (TaskType.REFERENCE_IMAGE_TO_VIDEO, "viduq2", 2, MediaType.VIDEO),
        (TaskType.TEXT_TO_MUSIC, "sonic", 0, MediaType.MUSIC),
        (TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", 0, MediaType.SPEECH),
    ],
)
async def test_every_task_type_is_accepted_and_finishes(
    sim: Sim, task_type: TaskType, model_id: str, inputs: int, kind: MediaType
) -> None:
    urls = tuple(f"http://ima.sim/_sim/media/image-640x480.png?i={i}" for i in range(inputs))
    created = await sim.client.create_task(TaskSpec(task_type, model_id, "hello there", input_urls=urls))
    done = await sim.wait(created.task_id)
    assert done.progress is TaskProgress.SUCCEEDED
    assert done.medias[0].kind is kind


async def test_n_outputs_are_all_returned(sim: Sim) -> None:
    created = await sim.client.create_task(
        TaskSpec(TaskType.TEXT_TO_IMAGE, "gemini-3.1-flash-image", "x", n=3)
    )
    done = await sim.wait(created.task_id)
    assert len(done.medias) == 3
    assert len({m.url for m in done.medias}) == 3


async def test_seedance_references_are_sent_as_src_fields(sim: Sim) -> None:
    refs = ReferenceBundle(images=(ReferenceImage("http://ima.sim/_sim/media/image-800x600.png", 800, 600),))
    await sim.client.create_task(
        TaskSpec(TaskType.REFERENCE_IMAGE_TO_VIDEO, "ima-pro-fast", "x", references=refs)
    )
    body = (await sim.payloads())[0]
    assert body["src_image"] == [
        {"url": "http://ima.sim/_sim/media/image-800x600.png", "width": 800, "height": 600}
    ]
    assert body["src_img_url"] == ["http://ima.sim/_sim/media/image-800x600.png"]


# ---------------------------------------------------------------- reflection


async def test_500_degrades_resolution_then_succeeds(sim: Sim) -> None:
    await sim.faults("create:code=500:when=resolution=1080P")
    created = await sim.client.create_task(spec("wan2.6-t2v", duration=10))
    assert created.attempts == 2
    assert created.adjustments == ("resolution:1080P->720P",)
    assert created.quote.attribute_id == 2059
    assert await sim.calls("tasks/create") == 2


async def test_500_degrades_numeric_duration(sim: Sim) -> None:
    await sim.faults("create:code=500:when=duration=15", "create:code=500:when=duration=10")
    created = await sim.client.create_task(spec("ima-pro-fast", duration=15, resolution="480p"))
    assert created.attempts == 3
    assert created.adjustments == ("duration:15->10", "duration:10->5")
    assert created.quote.attribute_id == 4504


async def test_500_on_every_attempt_gives_up_after_three(sim: Sim) -> None:
    await sim.faults("create:code=500")
    with pytest.raises(ImaApiError) as info:
        await sim.client.create_task(spec("wan2.6-t2v", duration=15))
    assert info.value.kind is ErrorKind.SERVER_ERROR
    assert info.value.params["attempts"] == "3"
    assert await sim.calls("tasks/create") == 3


async def test_6009_adds_missing_rule_attributes_and_retries(sim: Sim) -> None:
    await sim.faults("create:code=6009:once")
    created = await sim.client.create_task(spec("MiniMax-Hailuo-2.3"))
    assert created.attempts == 2
    assert set(created.adjustments) == {"+duration=6", "+resolution=768P"}


async def test_6010_refreshes_the_catalog_and_retries(sim: Sim) -> None:
    await sim.client.list_products(T2V)
    await sim.faults("create:code=6010:once")
    created = await sim.client.create_task(spec("kling-video-o1", quality="1080p"))
    assert created.attempts == 2
    assert created.quote.attribute_id == 2314
    assert await sim.calls("product/list") == 2


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("create:code=4008", ErrorKind.INSUFFICIENT_POINTS),
        ("create:code=4014", ErrorKind.SUBSCRIPTION_REQUIRED),
        ("create:code=401", ErrorKind.AUTH),
        ("create:code=6006", ErrorKind.CREDIT_MISMATCH),
        ("create:code=400017:message=Invalid value for model", ErrorKind.BAD_PARAMS),
        ("create:http=429:retry_after=7", ErrorKind.RATE_LIMITED),
        ("create:http=503", ErrorKind.UNAVAILABLE),
    ],
)
async def test_non_reflectable_create_errors_are_not_retried(sim: Sim, fault: str, kind: ErrorKind) -> None:
    await sim.faults(fault)
    with pytest.raises(ImaApiError) as info:
        await sim.client.create_task(spec("wan2.6-t2v"))
    assert info.value.kind is kind
    assert await sim.calls("tasks/create") == 1
    assert KEY not in repr(info.value) and KEY not in str(info.value)


async def test_real_balance_and_subscription_checks(sim: Sim) -> None:
    await sim.account(balance=10)
    with pytest.raises(ImaApiError) as info:
        await sim.client.create_task(spec("wan2.6-t2v"))
    assert info.value.kind is ErrorKind.INSUFFICIENT_POINTS
    await sim.account(balance=100_000, subscription=False)
    with pytest.raises(ImaApiError) as info:
        await sim.client.create_task(spec("ima-pro"))
    assert info.value.kind is ErrorKind.SUBSCRIPTION_REQUIRED
    assert (await sim.client.create_task(spec("ima-pro-fast"))).task_id


async def test_bad_key_is_auth_error_and_never_leaks(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(SimConfig(), clock=clock)
    bad = "sk_live_this_is_not_an_ima_key_123"
    caplog.set_level(logging.DEBUG)
    async with ImaClient(config(bad), transport=httpx.ASGITransport(app=app), clock=clock) as client:
        with pytest.raises(ImaApiError) as info:
            await client.list_products(T2V)
        assert info.value.kind is ErrorKind.AUTH
        assert bad not in repr(client)
    assert bad not in caplog.text
    assert bad not in str(info.value) and bad not in repr(info.value)


@pytest.mark.parametrize("fault", ["create:reset:once", "create:malformed:once"])
async def test_create_reset_or_unreadable_reply_is_lost_not_retried(sim: Sim, fault: str) -> None:
    await sim.faults(fault)
    with pytest.raises(ImaApiError) as info:
        await sim.client.create_task(spec("wan2.6-t2v"))
    assert info.value.kind is ErrorKind.CREATE_UNCONFIRMED
    assert await sim.calls("tasks/create") == 1


# ---------------------------------------------------------------- poll errors and outcomes


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("detail:reset:times=2", ErrorKind.NETWORK),  # once is sent again at once: see below
        ("detail:malformed:once", ErrorKind.PROTOCOL),
        ("detail:http=429:retry_after=4:once", ErrorKind.RATE_LIMITED),
        ("detail:code=500:once", ErrorKind.SERVER_ERROR),
        ("detail:http=502:once", ErrorKind.SERVER_ERROR),
    ],
)
async def test_transient_poll_errors_are_typed_and_the_next_poll_works(
    sim: Sim, fault: str, kind: ErrorKind
) -> None:
    created = await sim.client.create_task(spec("wan2.6-t2v"))
    await sim.faults(fault)
    with pytest.raises(ImaApiError) as info:
        await sim.client.get_task(created.task_id)
    assert info.value.kind is kind
    assert info.value.kind in TRANSIENT_KINDS
    if kind is ErrorKind.RATE_LIMITED:
        assert info.value.retry_after == 4
    assert (await sim.wait(created.task_id)).progress is TaskProgress.SUCCEEDED
    assert await sim.calls("tasks/create") == 1


async def test_a_poll_whose_connection_broke_is_sent_once_more(sim: Sim) -> None:
    created = await sim.client.create_task(spec("wan2.6-t2v"))
    await sim.faults("detail:reset:once")
    snapshot = await sim.client.get_task(created.task_id)
    assert snapshot.progress in (TaskProgress.PENDING, TaskProgress.RUNNING)
    assert await sim.calls("tasks/detail") == 2
    assert await sim.calls("tasks/create") == 1


@pytest.mark.parametrize(
    ("fault", "progress", "reason"),
    [
        ("task:rs=2:error_msg=content policy violation", TaskProgress.FAILED, "content policy violation"),
        ("task:rs=3", TaskProgress.DELETED, None),
        ("task:status=failed:error_msg=engine crashed", TaskProgress.FAILED, "engine crashed"),
    ],
)
async def test_failed_and_deleted_tasks(
    sim: Sim, fault: str, progress: TaskProgress, reason: str | None
) -> None:
    await sim.faults(fault)
    created = await sim.client.create_task(spec("wan2.6-t2v"))
    done = await sim.wait(created.task_id)
    assert done.progress is progress
    if reason:
        assert done.failure_reason == reason


async def test_empty_url_keeps_polling_until_the_url_arrives(sim: Sim) -> None:
    await sim.faults("task:empty_url=3")
    created = await sim.client.create_task(spec("wan2.6-t2v"))
    seen: list[TaskProgress] = []
    snap = await sim.client.get_task(created.task_id)
    while snap.progress is not TaskProgress.SUCCEEDED:
        seen.append(snap.progress)
        await sim.clock.sleep(5)
        snap = await sim.client.get_task(created.task_id)
    assert snap.medias[0].url
    state = await sim.state()
    assert state["tasks"][0]["detail_calls"] >= 4


# ---------------------------------------------------------------- verify


async def test_verify_passes_active_assets_and_reports_failures(sim: Sim) -> None:
    ok = await sim.client.verify_asset("http://ima.sim/_sim/files/a.png", "a")
    assert ok.passed and ok.status.lower() == "active"
    await sim.faults("verify:status=failed:match=face.png:error_msg=real person detected")
    bad = await sim.client.verify_asset("http://ima.sim/_sim/files/face.png", "face" * 40)
    assert not bad.passed
    assert bad.error_message == "real person detected"
    await sim.faults("verify:status=processing")
    assert not (await sim.client.verify_asset("http://ima.sim/x.png", "x")).passed


async def test_concurrent_cache_misses_share_one_product_list_fetch(sim: Sim) -> None:
    results = await asyncio.gather(*(sim.client.quote(spec("wan2.6-t2v")) for _ in range(20)))
    assert {q.attribute_id for q in results} == {2058}
    assert await sim.calls("product/list") == 1


INPUTS = {
    TaskType.IMAGE_TO_VIDEO: 1,
    TaskType.FIRST_LAST_FRAME_TO_VIDEO: 2,
    TaskType.REFERENCE_IMAGE_TO_VIDEO: 1,
    TaskType.IMAGE_TO_IMAGE: 1,
}


@pytest.mark.parametrize("task_type", list(TaskType))
async def test_every_rule_of_every_recorded_leaf_is_reachable_and_accepted(
    sim: Sim, task_type: TaskType
) -> None:
    """Asking for a rule's attributes selects exactly that rule, and the simulator (which recomputes
    the rule server-side) accepts it on the first attempt."""
    await sim.account(balance=10**9)
    urls = tuple(
        f"http://ima.sim/_sim/media/image-640x480.png?i={i}" for i in range(INPUTS.get(task_type, 0))
    )
    checked = 0
    for leaf in await sim.client.list_products(task_type):
        for rule in leaf.credit_rules:
            params = {k: v for k, v in rule.attributes.items() if k != "default"}
            created = await sim.client.create_task(
                TaskSpec(
                    task_type,
                    leaf.model_id,
                    "a lighthouse at dusk",
                    version_id=leaf.version_id,
                    params=params,
                    input_urls=urls,
                )
            )
            assert (created.quote.attribute_id, created.attempts) == (rule.attribute_id, 1), (leaf.name, rule)
            assert created.quote.exact
            checked += 1
    assert checked == await sim.calls("tasks/create")


async def test_tts_speed_reaches_the_server_as_audio_params(sim: Sim) -> None:
    created = await sim.client.create_task(
        TaskSpec(
            TaskType.TEXT_TO_SPEECH, "seed-tts-2.0", "你好，世界", params={"speed": 1.2, "voice": "female"}
        )
    )
    inner = (await sim.payloads())[0]["parameters"][0]["parameters"]
    assert inner["audio_params"] == {"speech_rate": 20}
    assert "voice" not in inner and "speed" not in inner
    assert (await sim.wait(created.task_id)).progress is TaskProgress.SUCCEEDED


@pytest.mark.parametrize(
    "task_type", [T2V, TaskType.TEXT_TO_IMAGE, TaskType.TEXT_TO_MUSIC, TaskType.TEXT_TO_SPEECH]
)
async def test_reflection_over_every_recorded_model_never_crashes(sim: Sim, task_type: TaskType) -> None:
    """500 on every create: each model degrades at most twice, then gives up with the server error.
    6009 once: multi-rule models recover on the second try; default-rule models give up at once."""
    await sim.account(balance=10**9)
    model_ids = dict.fromkeys(leaf.model_id for leaf in await sim.client.list_products(task_type))
    for model_id in model_ids:
        await sim.faults("create:code=500")
        with pytest.raises(ImaApiError) as info:
            await sim.client.create_task(spec(model_id, task_type))
        assert info.value.kind is ErrorKind.SERVER_ERROR, model_id
        assert 1 <= int(info.value.params["attempts"]) <= 3
        await sim.faults("create:code=6009:once")
        quote = await sim.client.quote(spec(model_id, task_type))
        if any(set(r.attributes) - {"default"} for r in quote.leaf.credit_rules):
            created = await sim.client.create_task(spec(model_id, task_type))
            assert created.attempts == 2, model_id
        else:
            with pytest.raises(ImaApiError) as info:
                await sim.client.create_task(spec(model_id, task_type))
            assert info.value.kind is ErrorKind.NO_RULE
