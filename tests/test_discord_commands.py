# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Slash commands through the real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.client import ClientOptions
from core.clock import FakeClock
from core.types import AttachmentKind, MediaType, TaskType
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import adapter, fake, service, vclock  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord

EPHEMERAL = 64


async def test_video_with_first_frame_defers_then_acks_in_the_original_response(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    frame = fake.attachment("cat.png", size=2048, content_type="image/png")
    await fake.slash(
        "video",
        {"prompt": "the cat jumps", "duration": 10, "aspect_ratio": "9:16", "resolution": "720P"},
        attachments={"first_frame": frame},
    )
    edits = await fake.wait_for_request("PATCH", "/messages/@original")

    callback = fake.find("POST", "/callback")[0]
    assert callback.body["type"] == 5  # deferred "thinking", public
    assert callback.seq < edits[0].seq
    call = service.calls[0]
    assert call.text == "the cat jumps"
    assert call.overrides is not None
    assert call.overrides.media_type == MediaType.VIDEO
    assert call.overrides.task_type == TaskType.IMAGE_TO_VIDEO
    assert dict(call.overrides.params) == {"duration": 10, "aspect_ratio": "9:16", "resolution": "720P"}
    (att,) = call.attachments
    assert (att.kind, att.role, att.name, att.size) == (AttachmentKind.IMAGE, "first_frame", "cat.png", 2048)
    assert att.ref == "discord:" + frame["url"]
    assert call.conversation.message_id == str(fake.interactions[call.conversation.message_id]["id"])
    assert edits[0].content == "Got it!"
    assert edits[0].custom_ids == ["imabot:cancel:job1"]


async def test_first_and_last_frame_make_a_first_last_frame_task(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.slash(
        "video",
        {"prompt": "morph"},
        attachments={
            "first_frame": fake.attachment("a.png"),
            "last_frame": fake.attachment("b.jpg", content_type="image/jpeg"),
        },
    )
    await fake.wait_for_request("PATCH", "/messages/@original")
    call = service.calls[0]
    assert call.overrides is not None and call.overrides.task_type == TaskType.FIRST_LAST_FRAME_TO_VIDEO
    assert [a.role for a in call.attachments] == ["first_frame", "last_frame"]


async def test_answers_within_the_deadline_while_the_service_is_still_busy(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    service.gate = asyncio.Event()  # IMA is slow: handle_message does not return yet
    await fake.slash("video", {"prompt": "slow"})
    async with asyncio.timeout(10):
        await service.entered.wait()
    # The interaction was acknowledged before the service was even called, and is while it waits.
    (callback,) = fake.find("POST", "/callback")
    assert callback.body["type"] == 5
    assert fake.find("PATCH", "/messages/@original") == []
    service.gate.set()
    await fake.wait_for_request("PATCH", "/messages/@original")


async def test_wrong_attachment_type_gets_an_ephemeral_note_and_no_task(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    doc = fake.attachment("notes.pdf", content_type="application/pdf")
    await fake.slash("video", {"prompt": "x"}, attachments={"first_frame": doc})
    (callback,) = await fake.wait_for_request("POST", "/callback")
    assert callback.body["type"] == 4
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "notes.pdf" in callback.body["data"]["content"] and "an image" in callback.body["data"]["content"]
    assert service.calls == []


async def test_oversize_attachment_is_refused_in_the_users_language(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    big = fake.attachment("huge.png", size=60 * 1024 * 1024)
    await fake.slash("image", {"prompt": "x"}, attachments={"image": big}, locale="zh-CN")
    (callback,) = await fake.wait_for_request("POST", "/callback")
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "太大" in callback.body["data"]["content"] and "huge.png" in callback.body["data"]["content"]
    assert service.calls == []


async def test_last_frame_alone_is_refused(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.slash("video", {"prompt": "x"}, attachments={"last_frame": fake.attachment("b.png")})
    (callback,) = await fake.wait_for_request("POST", "/callback")
    assert "first frame" in callback.body["data"]["content"]
    assert service.calls == []


async def test_unknown_model_gets_a_suggestion_list_and_no_task(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.slash("video", {"prompt": "x", "model": "sora-9"})
    (note,) = await fake.wait_for_request("POST", "/webhooks/")
    assert note.body["flags"] & EPHEMERAL
    assert "sora-9" in note.content and "Kling 2.1" in note.content and "Wan 2.6" in note.content
    assert fake.find("DELETE", "/messages/@original")  # the public "thinking…" is removed
    assert service.calls == []


async def test_model_typed_by_name_is_resolved_to_its_id(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.slash("video", {"prompt": "x", "model": "wan 2.6"})
    await fake.wait_for_request("PATCH", "/messages/@original")
    assert service.calls[0].overrides is not None and service.calls[0].overrides.model_id == "wan2.6-t2v"


async def test_autocomplete_filters_and_falls_back_to_the_whole_list(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await fake.autocomplete("video", {"prompt": "x", "model": "kl"}, focused="model")
    await fake.autocomplete("video", {"prompt": "x", "model": "zzz"}, focused="model")
    first, second = await fake.wait_for_request("POST", "/callback", count=2)
    assert first.body["type"] == 8
    assert [c["value"] for c in first.body["data"]["choices"]] == ["kling-v2"]
    assert first.body["data"]["choices"][0]["name"] == "Kling 2.1 · from 40 credits"
    assert [c["value"] for c in second.body["data"]["choices"]] == ["kling-v2", "wan2.6-t2v", "seedance-pro"]


async def test_dm_slash_command_is_accepted(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    dm = fake.dm_channel_for(fake.alice)
    await fake.slash("music", {"prompt": "lofi beat"}, channel=dm)
    await fake.wait_for_request("PATCH", "/messages/@original")
    call = service.calls[0]
    assert call.conversation.is_direct and call.conversation.chat_id == dm.id
    assert call.overrides is not None and call.overrides.task_type == TaskType.TEXT_TO_MUSIC


async def test_help_is_ephemeral_and_localized(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    await fake.slash("help", {}, locale="zh-CN")
    (callback,) = await fake.wait_for_request("POST", "/callback")
    assert callback.body["data"] == {"content": "帮助", "flags": EPHEMERAL} or (
        callback.body["data"]["content"] == "帮助" and callback.body["data"]["flags"] & EPHEMERAL
    )


async def test_prefs_show_and_clear_answer_privately(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    await fake.slash("prefs", {}, subcommand="show")
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    assert edit.content == f"prefs of {fake.alice.id}"
    assert fake.find("POST", "/callback")[0].body["data"]["flags"] & EPHEMERAL
    await fake.slash("prefs", {}, subcommand="clear")
    edits = await fake.wait_for_request("PATCH", "/messages/@original", count=2)
    assert edits[1].content == f"cleared {fake.alice.id}"


async def test_prefs_set_speaks_the_preference_sentence(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    service.notice_only = "Saved: Kling 2.1 for video"
    await fake.slash("prefs", {"kind": "video", "model": "kling-v2"}, subcommand="set")
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    assert service.calls[0].text == "always use kling-v2"
    assert service.calls[0].overrides is not None and service.calls[0].overrides.media_type == MediaType.VIDEO
    assert edit.content == "Saved: Kling 2.1 for video"


async def test_sync_sends_zh_cn_localizations(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    count = await adapter.sync_commands(guild_id=int(fake.channel.guild_id or 0))
    (put,) = fake.find("PUT", "/guilds/")
    by_name = {c["name"]: c for c in put.body}
    assert count == len(put.body) == 9  # 6 generation commands + /usage, /imabot, /imabot-admin
    video = by_name["video"]
    assert video["name_localizations"]["zh-CN"] == "视频"
    assert video["description_localizations"]["zh-CN"].startswith("生成视频")
    options = {o["name"]: o for o in video["options"]}
    assert options["prompt"]["name_localizations"]["zh-CN"] == "描述"
    assert options["model"]["autocomplete"] is True
    assert [c["value"] for c in options["duration"]["choices"]] == [5, 10, 15]
    assert options["duration"]["choices"][0]["name_localizations"]["zh-CN"] == "5 秒"
    assert options["first_frame"]["type"] == 11
    assert set(video["contexts"]) == {0, 1}


async def test_a_failing_service_replaces_thinking_with_a_plain_apology(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    service.fail = True
    await fake.slash("video", {"prompt": "x"}, locale="zh-CN")
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    assert edit.content == "我这边出了点问题，请稍后再试。"
    assert "exploded" not in str([r.body for r in fake.requests])


async def test_prefs_set_with_an_unknown_model_saves_nothing(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.slash("prefs", {"kind": "video", "model": "nonsense"}, subcommand="set")
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    assert edit.content is not None and "nonsense" in edit.content and "Kling 2.1" in edit.content
    assert service.calls == []


async def test_autocomplete_answers_in_time_even_when_the_model_list_is_slow(
    fake: FakeDiscord, service: RecordingService, vclock: FakeClock
) -> None:
    service.models_gate = asyncio.Event()  # never set: the product list hangs
    options = ClientOptions(guild_ready_timeout_s=0.05, autocomplete_budget_s=0.2)
    async with running_adapter(fake, service, vclock, client=options):
        await fake.autocomplete("video", {"prompt": "x", "model": "kl"}, focused="model")
        (callback,) = await fake.wait_for_request("POST", "/callback")
    assert callback.body == {"type": 8, "data": {"choices": []}}


async def test_callbacks_answered_without_a_body_still_work(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    fake.callback_without_body = True
    await fake.slash("video", {"prompt": "a cat"})
    await fake.slash(
        "video",
        {"prompt": "x"},
        attachments={"first_frame": fake.attachment("n.pdf", content_type="application/pdf")},
    )
    await fake.wait_for_request("PATCH", "/messages/@original")
    await fake.wait_for_request("POST", "/callback", count=2)
    assert [c.text for c in service.calls] == ["a cat"]
