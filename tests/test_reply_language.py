# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Platform-side notices answer in the message's language, then the user's locale, then the guild's
default (issue #13 item 6): the fake guild's preferred locale is en-US, the users write Chinese."""

from __future__ import annotations

from adapters.discord.adapter import DiscordAdapter
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import adapter, fake, service, vclock  # noqa: F401
from tests.discord_fake.server import FakeDiscord

EPHEMERAL = 64


async def test_a_chinese_mention_with_a_file_too_big_is_answered_in_chinese_in_an_english_guild(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    huge = fake.attachment("clip.mp4", size=300 * 1024 * 1024, content_type="video/mp4")
    await fake.message("把这个视频做成动画", attachments=[huge])
    (post,) = await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages")
    assert post.content is not None and "clip.mp4" in post.content
    assert "太大了" in post.content and "too big" not in post.content
    assert service.calls == []


async def test_an_english_mention_gets_english_and_a_wordless_one_the_guild_default(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    huge = fake.attachment("clip.mp4", size=300 * 1024 * 1024, content_type="video/mp4")
    await fake.message("animate this clip", attachments=[huge])
    await fake.message("🎬🎬", attachments=[huge])
    posts = await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages", count=2)
    assert all(p.content is not None and "too big" in p.content for p in posts)


async def test_a_slash_command_prompt_in_chinese_wins_over_an_english_client_locale(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    huge = fake.attachment("ref.png", size=300 * 1024 * 1024, content_type="image/png")
    await fake.slash("video", {"prompt": "让这张图动起来"}, attachments={"first_frame": huge}, locale="en-US")
    (callback,) = await fake.wait_for_request("POST", "/callback")
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "太大了" in callback.body["data"]["content"]
