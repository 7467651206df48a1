"""Whole flows: lark-oapi's real long-connection client against the fake Feishu, the real
GenerationService with SQLite stores, and the in-process IMA simulator, on virtual time."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.chat.actions import decode_action
from adapters.dedupe_store import SqlDedupeStore
from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.media.probe import PyAvProbe
from adapters.media.remote import SafeRemoteFetcher
from adapters.sqlite.db import Database
from core.clock import FakeClock
from core.media.inputs import AttachmentPreparer
from core.media.preflight import MediaLimits
from core.pipeline.service import GenerationService
from core.platform import ActionKind, AttachmentFetcher, EventSink
from core.types import Attachment, Platform
from tests import media_factory
from tests.discord_fake.transport_download import SIM_ORIGINS
from tests.feishu_fake.events import card_action_event, message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu, SentMessage
from tests.support.ima import SimHarness
from tests.support.service import running_service


@dataclass
class Stack:
    service: GenerationService
    adapter: FeishuAdapter


class _NoFetcher:
    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        raise AssertionError("not used in these tests")


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


@asynccontextmanager
async def stack(fake: FakeFeishu, sim: SimHarness, db: Database, clock: FakeClock, tmp: Path
                ) -> AsyncIterator[Stack]:
    sinks: dict[Platform, EventSink] = {}
    # Non-empty on purpose: tests.support.service replaces an empty mapping with a new one (``or {}``),
    # which would hide the fetcher registered below.
    fetchers: dict[Platform, AttachmentFetcher] = {Platform.CLI: _NoFetcher()}
    config = FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url, temp_dir=tmp,
                              media_origins=SIM_ORIGINS)
    remote = SafeRemoteFetcher(transport=httpx.MockTransport(lambda r: httpx.Response(404)), resolver=_no_dns)
    async with sim.client() as ima:
        preparer = AttachmentPreparer(ima, PyAvProbe(), remote, MediaLimits.load_default(),
                                      temp_dir=tmp / "work")
        async with running_service(sim, db, clock, sinks, fetchers=fetchers, preparer=preparer) as service:
            adapter = FeishuAdapter(config, service, SqlDedupeStore(db, clock), clock, probe=PyAvProbe(),
                                    media_transport=sim.transport)
            sinks[Platform.FEISHU] = adapter.sink
            fetchers[Platform.FEISHU] = adapter.fetcher
            async with adapter:
                await fake.wait_connected()
                yield Stack(service, adapter)
                await adapter.router.drain()
                await service.wait_idle()
    await remote.aclose()


async def deliver(fake: FakeFeishu, s: Stack, payload: dict[str, object]) -> None:
    ack = await fake.push_event(payload)
    assert ack.code == 200 and ack.elapsed_s < 3.0
    await s.adapter.router.drain()


@asynccontextmanager
async def one_group_message(sim: SimHarness, db: Database, clock: FakeClock, tmp: Path, text: str,
                            message_id: str) -> AsyncIterator[FakeFeishu]:
    """A group @mention run to its end (every status patch landed); the fake, to look at."""
    async with running_fake() as fake:
        fake.now = clock.now
        async with stack(fake, sim, db, clock, tmp) as s:
            await deliver(fake, s, message_event(text=text, message_id=message_id))
            await s.service.wait_idle()
            await s.adapter.sink.aclose()
        yield fake


async def test_group_mention_gets_one_patched_card_then_an_inline_video_and_the_link(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with one_group_message(sim, db, clock, tmp_path, "生成一只小猫在草地上奔跑的视频",
                                 "om_in_cat") as fake:
        assert len(await sim.tasks()) == 1
        cards = [m for m in fake.messages if m.msg_type == "interactive"]
        status = cards[0]
        assert status.reply_to == "om_in_cat" and status.content["config"]["update_multi"] is True
        patches = [p for p in fake.patches if p.message_id == status.message_id]
        assert patches, "progress must update the same card"
        times = [status.at] + [p.at for p in patches]
        assert all(b - a >= 3.0 for a, b in itertools.pairwise(times))
        (media,) = [m for m in fake.messages if m.msg_type == "media"]
        upload = fake.uploads[media.content["file_key"]]
        assert upload.fields["file_type"] == "mp4" and int(upload.fields["duration"]) > 0
        assert media.content.get("image_key") in fake.uploads
        texts = [m.content["text"] for m in fake.messages if m.msg_type == "text"]
        assert any("http" in t for t in texts), texts
        assert all(m.chat_id == "oc_group" for m in fake.messages)
        final = fake.message(status.message_id).card_text
        assert "✅ 已完成" in final  # the card ends on the latest state, not on a stale percentage


async def test_dm_with_an_image_makes_an_image_to_video_task(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    picture = media_factory.image(tmp_path / "cat.png", 1024, 768)
    async with running_fake() as fake:
        fake.add_resource("om_in_pic", "img_v3_cat", picture.read_bytes(), "cat.png")
        post = {"title": "", "content": [[{"tag": "text", "text": "让这张图动起来"}],
                                         [{"tag": "img", "image_key": "img_v3_cat"}]]}
        async with stack(fake, sim, db, clock, tmp_path) as s:
            await deliver(fake, s, message_event(message_type="post", content=post, chat_type="p2p",
                                                 mention_bot=False, message_id="om_in_pic"))
            await s.service.wait_idle()
        (task,) = await sim.tasks()
        assert task["task_type"] == "image_to_video", task
        assert ("resource", "/open-apis/im/v1/messages/om_in_pic/resources/img_v3_cat") in fake.requests


async def test_redeliveries_and_a_restart_create_exactly_one_task(
        sim: SimHarness, db_path: Path, clock: FakeClock, tmp_path: Path) -> None:
    payload = message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False,
                            message_id="om_in_once")
    async with running_fake() as fake:
        async with Database(db_path) as db, stack(fake, sim, db, clock, tmp_path) as s:
            for _ in range(3):
                await deliver(fake, s, payload)
            await s.service.wait_idle()
        async with Database(db_path) as db, stack(fake, sim, db, clock, tmp_path) as s:
            await deliver(fake, s, payload)
            await deliver(fake, s, message_event(text="画一只可爱的橘猫", chat_type="p2p", mention_bot=False,
                                                 message_id="om_in_once"))  # new event id, same message
            await s.service.wait_idle()
    assert len(await sim.tasks()) == 1


async def test_retry_button_on_the_result_starts_a_new_task_only_for_the_requester(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with running_fake() as fake:
        async with stack(fake, sim, db, clock, tmp_path) as s:
            await deliver(fake, s, message_event(text="画一只可爱的橘猫", user="ou_alice"))
            await s.service.wait_idle()
            # the retry button itself, found by its action (a card may carry other buttons), once the
            # status card's last edit (throttled, it may land after the job's task ended) has shown it
            await fake.wait_until(lambda f: bool(_retry_buttons(f)))
            card, job_id = _retry_buttons(fake)[-1]
            action = ActionKind.RETRY.value

            click = card_action_event(action=action, job_id=job_id, user="ou_mallory",
                                      message_id=card.message_id)
            stranger = await fake.push_event(click)
            assert stranger.elapsed_s < 3.0 and stranger.data is not None
            assert stranger.data["toast"]["type"] == "warning"
            await s.service.wait_idle()
            assert len(await sim.tasks()) == 1

            owner = await fake.push_event(card_action_event(action=action, job_id=job_id, user="ou_alice",
                                                            message_id=card.message_id))
            assert owner.elapsed_s < 3.0 and owner.data is not None
            assert owner.data["toast"]["type"] == "success", owner.data
            await s.service.wait_idle()
            await s.adapter.router.drain()
            await s.service.wait_idle()
        assert len(await sim.tasks()) == 2
        follow_ups = [m for m in fake.messages if m.reply_to == card.message_id]
        assert follow_ups, "the new job answers under the card that was clicked"


async def test_an_oversized_attachment_is_explained_and_nothing_is_uploaded(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with running_fake() as fake:
        fake.add_resource("om_in_big", "img_big", bytes(31 * 1024 * 1024), "huge.png")
        post = {"title": "", "content": [[{"tag": "text", "text": "让这张图动起来"}],
                                         [{"tag": "img", "image_key": "img_big"}]]}
        async with stack(fake, sim, db, clock, tmp_path) as s:
            await deliver(fake, s, message_event(message_type="post", content=post, chat_type="p2p",
                                                 mention_bot=False, message_id="om_in_big"))
            await s.service.wait_idle()
        assert await sim.tasks() == []
        calls = await sim.calls()
        assert not any("upload" in name for name, count in calls.items() if count), calls
        failure = [m for m in fake.messages if m.msg_type == "interactive" and '"red"' in m.card_text]
        assert failure and "MB" in failure[-1].card_text, [m.card_text for m in fake.messages]


async def test_one_generation_is_three_new_messages_with_the_preference_notice_in_the_status_card(
        sim: SimHarness, db: Database, clock: FakeClock, tmp_path: Path) -> None:
    async with one_group_message(sim, db, clock, tmp_path, "以后都用海螺，生成一只猫在弹钢琴的视频",
                                 "om_in_economy") as fake:
        assert len(await sim.tasks()) == 1
        # the status card (ack → pre-generation → progress → summary with buttons), the video, the link
        assert [m.msg_type for m in fake.messages] == ["interactive", "media", "text"]
        status, _media, link = fake.messages
        final = fake.message(status.message_id).card_text
        assert "已记住" in final and "✅ 已完成" in final  # the notice and the summary: in the status card
        assert "imabot:retry:" in final and "imabot:cancel:" not in final
        assert "http" in link.content["text"]


def _retry_buttons(fake: FakeFeishu) -> list[tuple[SentMessage, str]]:
    """Every card showing a retry button, with the job id that button retries."""
    return [(m, decoded[1]) for m in fake.messages if m.msg_type == "interactive"
            for decoded in map(decode_action, _callback_actions(m.content))
            if decoded is not None and decoded[0] is ActionKind.RETRY]


def _callback_actions(node: object) -> Iterator[str]:
    """The encoded actions (``imabot:<action>:<job id>``) of every callback button in a card, in order."""
    if isinstance(node, dict):
        if node.get("tag") == "button":
            for behavior in node.get("behaviors", ()):
                value = behavior.get("value") if behavior.get("type") == "callback" else None
                if isinstance(value, dict) and isinstance(value.get("action"), str):
                    yield value["action"]
        for child in node.values():
            yield from _callback_actions(child)
    elif isinstance(node, list):
        for child in node:
            yield from _callback_actions(child)
