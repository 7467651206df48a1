"""The REST wrapper, driving the real lark-oapi client against the fake open platform."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.feishu.api import RetryPolicy
from core.clock import FakeClock
from core.errors import ErrorKind, PlatformError
from tests.feishu_fake.fixtures import api_for, running_fake


async def test_bot_identity_and_a_reply_in_the_users_thread() -> None:
    async with running_fake() as fake:
        api = api_for(fake, FakeClock())
        assert await api.bot_open_id() == "ou_bot"
        fake.inbound_chats["om_user"] = "oc_1"
        mid = await api.reply("om_user", "text", {"text": "hi"}, uuid="j1:notice")
        sent = fake.message(mid)
        assert (sent.chat_id, sent.reply_to, sent.content) == ("oc_1", "om_user", {"text": "hi"})
        assert fake.token_requests == 1


async def test_same_uuid_posts_once() -> None:
    async with running_fake() as fake:
        api = api_for(fake, FakeClock())
        first = await api.send("oc_1", "text", {"text": "a"}, uuid="job1:text")
        second = await api.send("oc_1", "text", {"text": "a"}, uuid="job1:text")
        assert first == second
        assert len(fake.messages) == 1


async def test_rate_limit_is_retried_with_backoff_on_the_clock() -> None:
    clock = FakeClock()
    async with running_fake() as fake:
        fake.fail_next("send", 230020, times=2)
        api = api_for(fake, clock, RetryPolicy(attempts=4, base_delay_s=0.5))
        start = clock.now()
        await api.send("oc_1", "text", {"text": "a"}, uuid="u1")
        assert len(fake.messages) == 1
        assert clock.now() - start == pytest.approx(0.5 + 1.0)


async def test_app_level_429_is_retried_too() -> None:
    async with running_fake() as fake:
        fake.fail_next("reply", 99991400)
        api = api_for(fake, FakeClock())
        fake.inbound_chats["om_u"] = "oc_1"
        await api.reply("om_u", "text", {"text": "a"}, uuid="u2")
        assert len(fake.messages) == 1


async def test_other_errors_fail_at_once_without_leaking_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_fake() as fake:
        fake.fail_next("send", 230002)  # bot not in the chat
        api = api_for(fake, FakeClock())
        with pytest.raises(PlatformError) as info:
            await api.send("oc_1", "text", {"text": "a"}, uuid="u3")
        assert info.value.code == 230002
        assert info.value.kind is ErrorKind.BAD_PARAMS
        assert "t-fake" not in repr(info.value)
        assert [op for op, _ in fake.requests].count("send") == 1
    assert "t-fake" not in caplog.text and "secret" not in caplog.text


async def test_rate_limit_that_never_clears_gives_up() -> None:
    async with running_fake() as fake:
        fake.fail_next("patch", 230020, times=10)
        api = api_for(fake, FakeClock(), RetryPolicy(attempts=3))
        with pytest.raises(PlatformError) as info:
            await api.patch_card("om_x", {"config": {"update_multi": True}})
        assert info.value.kind is ErrorKind.RATE_LIMITED
        assert [op for op, _ in fake.requests].count("patch") == 3


async def test_card_patch_needs_update_multi(tmp_path: Path) -> None:
    async with running_fake() as fake:
        api = api_for(fake, FakeClock())
        card = {"schema": "2.0", "config": {"update_multi": True}, "body": {"elements": []}}
        mid = await api.send("oc_1", "interactive", card, uuid="c1")
        await api.patch_card(mid, {**card, "body": {"elements": [{"tag": "div"}]}})
        assert fake.message(mid).content["body"]["elements"] == [{"tag": "div"}]
        with pytest.raises(PlatformError):
            await api.patch_card(mid, {"schema": "2.0", "body": {"elements": []}})


async def test_uploads_stream_files_with_names_and_duration(tmp_path: Path) -> None:
    video = tmp_path / "out.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 1000)
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff" + b"c" * 100)
    async with running_fake() as fake:
        api = api_for(fake, FakeClock())
        file_key = await api.upload_file(video, "mp4", duration_ms=5000)
        image_key = await api.upload_image(cover)
        assert fake.uploads[file_key].data == video.read_bytes()
        expected = {"file_type": "mp4", "file_name": "out.mp4", "duration": "5000"}
        assert fake.uploads[file_key].fields == expected
        assert fake.uploads[image_key].data == cover.read_bytes()
        assert fake.uploads[image_key].fields == {"image_type": "message"}
