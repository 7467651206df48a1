# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""@mentions, DMs and button clicks through the real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio

from adapters.discord.adapter import DiscordAdapter
from core.clock import FakeClock
from core.platform import ActionKind
from core.types import AttachmentKind
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import adapter, fake, service, vclock  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord

EPHEMERAL = 64


async def test_mention_with_attachment_goes_to_the_service_without_the_mention(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    photo = fake.attachment("dog.jpg", size=4096, content_type="image/jpeg")
    await fake.message("make this dog run <@1400000000000000002>", attachments=[photo])
    await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages")
    call = service.calls[0]
    assert call.text == "make this dog run <@1400000000000000002>"  # only the bot's mention is removed
    assert call.overrides is None  # free text: the intent parser decides
    (att,) = call.attachments
    assert (att.kind, att.name, att.ref, att.role) == (
        AttachmentKind.IMAGE,
        "dog.jpg",
        "discord:" + photo["url"],
        None,
    )
    assert not call.conversation.is_direct and call.conversation.chat_id == fake.channel.id


async def test_channel_message_without_mention_is_ignored(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.message("just chatting", mention_bot=False)
    await fake.message("now for the bot")
    await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages")
    assert [c.text for c in service.calls] == ["now for the bot"]


async def test_plain_dm_is_a_request(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    dm = fake.dm_channel_for(fake.alice)
    await fake.message("一只猫在冲浪的视频", channel=dm, mention_bot=False)
    (post,) = await fake.wait_for_request("POST", f"/channels/{dm.id}/messages")
    call = service.calls[0]
    assert call.text == "一只猫在冲浪的视频"
    assert call.conversation.is_direct and call.conversation.chat_id == dm.id
    assert post.content == "Got it!"


async def test_mention_with_an_unusable_file_is_explained_and_starts_nothing(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    doc = fake.attachment("spec.zip", content_type="application/zip")
    await fake.message("animate this", attachments=[doc])
    (post,) = await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages")
    assert post.content is not None and "spec.zip" in post.content
    assert service.calls == []


async def test_button_click_is_answered_privately_with_the_service_reply(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    service.owners["job7"] = fake.alice.id
    await fake.click("imabot:retry:job7")
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    (callback,) = fake.find("POST", "/callback")
    assert callback.body["type"] == 5 and callback.body["data"]["flags"] & EPHEMERAL
    assert edit.content == "retry started"
    conversation, job_id, action = service.actions[0]
    assert (job_id, action, conversation.user_id) == ("job7", ActionKind.RETRY, fake.alice.id)


async def test_someone_elses_button_gets_an_ephemeral_refusal(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    service.owners["job7"] = fake.alice.id
    await fake.click("imabot:cancel:job7", user=fake.bob)
    (edit,) = await fake.wait_for_request("PATCH", "/messages/@original")
    assert edit.content == "Only the person who asked can use these buttons."
    assert fake.find("POST", "/callback")[0].body["data"]["flags"] & EPHEMERAL


async def test_buttons_work_after_a_restart(fake: FakeDiscord, vclock: FakeClock) -> None:
    first = RecordingService()
    async with running_adapter(fake, first, vclock):
        await fake.slash("video", {"prompt": "a cat"})
        async with asyncio.timeout(10):
            await first.acked.wait()
    # A new process: nothing in memory but the registered dynamic button class.
    second = RecordingService()
    async with running_adapter(fake, second, vclock):
        await fake.click("imabot:first_frame:job1")
        await fake.wait_for(
            lambda _: (
                len(second.actions) == 1
                and any(
                    "@original" in r.path and r.method == "PATCH" and r.content == "first_frame started"
                    for r in fake.requests
                )
            )
        )
    assert second.actions[0][1:] == ("job1", ActionKind.FIRST_FRAME)


async def test_a_job_started_by_a_button_gets_its_own_status_message(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    """The click's ephemeral answer must not become the new job's public status message."""
    from core.platform import Slot, Step, UxEvent
    from core.types import Language
    from tests.discord_fake.fixtures import conversation_of_click

    click = await fake.click("imabot:retry:job1")
    await fake.wait_for_request("PATCH", "/messages/@original")
    conv = conversation_of_click(click)
    await adapter.sink.emit(UxEvent("job2", conv, Step.ACK, Slot.STATUS, "Got it!", Language.EN))
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert post.content == "Got it!"


async def test_the_client_resumes_after_a_gateway_reconnect_and_keeps_serving(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    await fake.ask_to_reconnect()
    async with asyncio.timeout(10):
        await fake.identified.wait()
    assert (fake.identifies, fake.resumes) == (1, 1)
    await fake.slash("image", {"prompt": "after the reconnect"})
    await fake.wait_for_request("PATCH", "/messages/@original")
    assert service.calls[0].text == "after the reconnect"
