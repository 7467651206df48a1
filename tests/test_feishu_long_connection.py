"""The whole adapter over lark-oapi's real long-connection client, against the fake open platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.dedupe_store import SqlDedupeStore
from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.sqlite.db import Database
from core.clock import FakeClock
from tests.feishu_fake.events import card_action_event, message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.server import FakeFeishu
from tests.feishu_fake.service import RecordingService


@dataclass
class Bot:
    adapter: FeishuAdapter
    service: RecordingService


@asynccontextmanager
async def feishu_bot(fake: FakeFeishu, db_path: Path, **config: object) -> AsyncIterator[Bot]:
    clock = FakeClock()
    async with Database(db_path) as db:
        service = RecordingService()
        adapter = FeishuAdapter(FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url,
                                             **config),  # type: ignore[arg-type]
                                service, SqlDedupeStore(db, clock), clock)
        service.sink = adapter.sink
        async with adapter:
            await fake.wait_connected()
            yield Bot(adapter, service)


async def deliver(fake: FakeFeishu, bot: Bot, payload: dict[str, object]) -> None:
    ack = await fake.push_event(payload)
    assert ack.code == 200
    assert ack.elapsed_s < 1.0  # far inside Feishu's 3 s: the handler only hands the event over
    await bot.adapter.router.drain()


async def test_group_mention_reaches_the_service_and_gets_a_card_in_the_thread(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        payload = message_event(text="生成一只猫在草地上奔跑的视频", message_id="om_in_cat")
        await deliver(fake, bot, payload)
        (handled,) = bot.service.messages
        assert handled.text == "生成一只猫在草地上奔跑的视频"
        assert handled.conversation.chat_id == "oc_group" and handled.conversation.user_id == "ou_alice"
        (card,) = fake.messages
        assert card.msg_type == "interactive" and card.reply_to == "om_in_cat" and card.chat_id == "oc_group"


async def test_group_message_without_mention_is_ignored_silently(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        await deliver(fake, bot, message_event(text="随便聊聊", mention_bot=False))
        assert bot.service.messages == [] and fake.messages == []


async def test_same_event_three_times_and_after_a_restart_is_handled_once(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite3"
    payload = message_event(text="a cat video", chat_type="p2p", mention_bot=False, message_id="om_in_dup")
    async with running_fake() as fake:
        async with feishu_bot(fake, db_path) as bot:
            for _ in range(3):
                await deliver(fake, bot, payload)
            # Feishu also resends the same message under a new event id.
            resent = message_event(text="a cat video", chat_type="p2p", mention_bot=False,
                                   message_id="om_in_dup")
            await deliver(fake, bot, resent)
            assert len(bot.service.messages) == 1
        async with feishu_bot(fake, db_path) as restarted:
            await deliver(fake, restarted, payload)
            assert restarted.service.messages == []
        assert len(fake.messages) == 1


async def test_dm_with_an_image_hands_over_a_fetchable_attachment(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        fake.add_resource("om_in_img", "img_v3_cat", b"\x89PNG fake image bytes", "cat.png")
        payload = message_event(message_type="image", content={"image_key": "img_v3_cat"}, chat_type="p2p",
                                mention_bot=False, message_id="om_in_img")
        await deliver(fake, bot, payload)
        (handled,) = bot.service.messages
        assert handled.conversation.is_direct
        (attachment,) = handled.attachments
        path = await bot.adapter.fetcher.fetch(attachment, tmp_path / "in", max_bytes=1024)
        assert path.read_bytes() == b"\x89PNG fake image bytes"


async def test_unsupported_message_gets_a_short_help(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        await deliver(fake, bot, message_event(message_type="sticker", content={"file_key": "stk"},
                                               chat_type="p2p", mention_bot=False))
        assert bot.service.messages == []
        (help_reply,) = fake.messages
        assert help_reply.msg_type == "text" and "图片" in help_reply.content["text"]


async def test_button_click_is_answered_with_a_toast_well_within_three_seconds(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        await deliver(fake, bot, message_event(text="a dog video", user="ou_alice"))
        ack = await fake.push_event(card_action_event(action="retry", job_id="job-1", user="ou_alice",
                                                      message_id="om_card_1"))
        assert ack.code == 200 and ack.elapsed_s < 3.0
        assert ack.data == {"toast": {"type": "success", "content": "已重新开始"}}
        conversation, job_id, action = bot.service.actions[0]
        assert (job_id, action.value, conversation.user_id) == ("job-1", "retry", "ou_alice")
        assert conversation.message_id.startswith("om_card_1#")

        stranger = await fake.push_event(card_action_event(action="retry", job_id="job-1", user="ou_mallory"))
        assert stranger.data == {"toast": {"type": "warning", "content": "只有发起人可以操作"}}


async def test_slow_action_still_gets_a_toast_in_time(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3", action_wait_s=0.3) as bot:
        gate = asyncio.Event()
        bot.service.action_gate = gate
        await deliver(fake, bot, message_event(text="a dog video"))
        ack = await fake.push_event(card_action_event(action="better", job_id="job-1"))
        assert ack.data is not None and ack.data["toast"]["type"] == "info"
        assert ack.elapsed_s < 3.0
        gate.set()


async def test_unknown_button_payload_is_explained(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        ack = await fake.push_event(card_action_event(action="explode", job_id="job-9"))
        assert ack.data is not None and ack.data["toast"]["type"] == "warning"
        assert bot.service.actions == []


async def test_a_service_failure_gets_a_plain_apology(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        async def broken(*args: object, **kwargs: object) -> str | None:
            raise RuntimeError("database is locked")

        bot.service.handle_message = broken  # type: ignore[method-assign]
        await deliver(fake, bot, message_event(text="make a cat video", chat_type="p2p"))
        (reply,) = fake.messages
        assert reply.content == {"text": "Something went wrong on my side; please try again in a moment."}


async def test_the_long_connection_comes_back_after_a_drop(tmp_path: Path) -> None:
    async with running_fake() as fake, feishu_bot(fake, tmp_path / "db.sqlite3") as bot:
        await fake.drop_connection()
        await fake.wait_connected()  # the SDK reconnects by itself (the fake asks for no back-off)
        await deliver(fake, bot, message_event(text="a cat video", chat_type="p2p"))
        assert len(bot.service.messages) == 1
