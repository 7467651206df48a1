# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""The Discord sink: progress edits, result delivery, fallbacks; real discord.py against the fake."""

from __future__ import annotations

import asyncio

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.refs import MessageRef
from core.clock import FakeClock
from core.platform import ActionKind, Step
from core.types import Conversation, MediaResult, MediaType
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import adapter, event, fake, service, vclock  # noqa: F401
from tests.discord_fake.harness import running_adapter
from tests.discord_fake.server import FakeDiscord

MiB = 1024 * 1024


async def start_job(fake: FakeDiscord, service: RecordingService) -> tuple[Conversation, str]:
    await fake.slash("video", {"prompt": "a cat"})
    async with asyncio.timeout(10):
        await service.acked.wait()
    ref = service.refs["job1"]
    assert ref is not None
    return service.calls[0].conversation, ref


def bot_edits(fake: FakeDiscord) -> list[str | None]:
    return [
        r.content for r in fake.requests if r.method == "PATCH" and r.path.startswith("/api/v10/channels/")
    ]


def webhook_edits(fake: FakeDiscord) -> list[str | None]:
    return [r.content for r in fake.find("PATCH", "/messages/@original")]


async def test_progress_edits_are_throttled_and_the_latest_state_wins(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter, vclock: FakeClock
) -> None:
    conv, ref = await start_job(fake, service)
    for percent in (10, 20, 30):
        returned = await adapter.sink.emit(
            event(
                conv,
                Step.PROGRESS,
                f"Working… {percent}%",
                ref=ref,
                percent=percent,
                actions=(ActionKind.CANCEL,),
            )
        )
        assert returned == ref  # the same message, always
    assert webhook_edits(fake) == ["Got it!"]  # nothing before the 3 s interval has passed
    vclock.advance(3)
    await adapter.sink.flush("job1")
    assert webhook_edits(fake) == ["Got it!", "Working… 30%"]  # 10 % and 20 % were coalesced away


async def test_success_posts_a_new_message_with_the_video_attached(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter, vclock: FakeClock
) -> None:
    conv, _ = await start_job(fake, service)
    url = fake.add_blob("result.mp4", size=3 * MiB, content_type="video/mp4")
    result_ref = await adapter.sink.emit(
        event(
            conv,
            Step.SUCCESS,
            f"Done in 2 min. Link: {url}",
            media=(MediaResult(url, MediaType.VIDEO),),
            actions=(ActionKind.RETRY, ActionKind.FASTER, ActionKind.FIRST_FRAME),
        )
    )
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    (file,) = post.files
    assert (file.filename, file.size) == ("result-1.mp4", 3 * MiB)
    assert post.content is not None
    assert post.content.startswith(f"<@{fake.alice.id}>")
    assert f"<{url}>" in post.content and f"\n{url}" not in post.content  # copyable, no second preview
    assert post.custom_ids == ["imabot:retry:job1", "imabot:faster:job1", "imabot:first_frame:job1"]
    assert post.body["allowed_mentions"]["parse"] == ["users"]
    assert MessageRef.decode(result_ref) is not None
    vclock.advance(3)
    await adapter.sink.flush("job1")
    assert fake.find("PATCH", "/messages/@original")[-1].custom_ids == []  # Cancel removed from status


async def test_oversize_video_is_sent_as_a_bare_url_that_discord_unfurls(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    url = fake.add_blob("big.mp4", size=11 * MiB, content_type="video/mp4")  # over the 10 MiB default
    await adapter.sink.emit(event(conv, Step.SUCCESS, "Done!", media=(MediaResult(url, MediaType.VIDEO),)))
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert post.files == []
    assert post.content is not None
    lines = post.content.split("\n")
    assert lines[0] == f"<@{fake.alice.id}>" and lines[1] == url  # bare: Discord shows a player


async def test_image_and_audio_results_are_attached(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    img = fake.add_blob("pic.png", data=b"\x89PNG" + b"\0" * 100, content_type="image/png")
    song = fake.add_blob("song.mp3", size=2 * MiB, content_type="audio/mpeg")
    await adapter.sink.emit(
        event(
            conv,
            Step.SUCCESS,
            "Here you go",
            media=(MediaResult(img, MediaType.IMAGE), MediaResult(song, MediaType.MUSIC)),
        )
    )
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert [(f.filename, f.size) for f in post.files] == [("result-1.png", 104), ("result-2.mp3", 2 * MiB)]


async def test_failure_posts_text_and_retry_buttons(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    await adapter.sink.emit(
        event(
            conv,
            Step.FAILURE,
            "The model is busy. Try Wan 2.6 (25 pts).",
            actions=(ActionKind.RETRY, ActionKind.FASTER),
        )
    )
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert post.content == f"<@{fake.alice.id}>\nThe model is busy. Try Wan 2.6 (25 pts)."
    assert post.custom_ids == ["imabot:retry:job1", "imabot:faster:job1"]


async def test_no_attach_permission_falls_back_to_the_link(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    fake.channel.deny_attach = True
    url = fake.add_blob("r.mp4", size=MiB, content_type="video/mp4")
    await adapter.sink.emit(event(conv, Step.SUCCESS, "Done", media=(MediaResult(url, MediaType.VIDEO),)))
    posts = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert [p.status for p in posts] == [403, 200]
    assert posts[1].files == [] and posts[1].content is not None and f"\n{url}\n" in posts[1].content


async def test_no_send_permission_falls_back_to_the_interaction_followup(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    fake.channel.deny_send = True
    await adapter.sink.emit(event(conv, Step.FAILURE, "Sorry"))
    (followup,) = fake.find("POST", "/webhooks/")
    assert followup.content is not None and followup.content.endswith("Sorry")


async def test_after_restart_without_send_permission_the_result_goes_to_dm(
    fake: FakeDiscord, service: RecordingService, vclock: FakeClock
) -> None:
    conv = Conversation(conv_platform(), fake.channel.id, fake.alice.id, "999", user_display="alice")
    fake.channel.deny_send = True
    async with running_adapter(fake, service, vclock) as fresh:
        await fresh.sink.emit(event(conv, Step.FAILURE, "Sorry"))
    dm = fake.dm_channel_for(fake.alice)
    (post,) = fake.find("POST", f"/channels/{dm.id}/messages")
    assert post.content is not None and "couldn't post in that channel" in post.content
    assert fake.find("POST", "/users/@me/channels")


async def test_rate_limited_send_is_retried_after_retry_after(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    fake.add_fault(
        "POST",
        r"/channels/\d+/messages$",
        429,
        {"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
        headers={"Retry-After": "0.05", "X-RateLimit-Scope": "user", "Via": "1.1 google"},
    )
    await adapter.sink.emit(event(conv, Step.FAILURE, "Sorry"))
    posts = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert [p.status for p in posts] == [429, 200]


async def test_status_switches_to_bot_token_edits_when_the_interaction_token_expires(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter, vclock: FakeClock
) -> None:
    conv, ref = await start_job(fake, service)
    assert "|i:" in ref  # while the token lasts, the ref carries it
    vclock.advance(14 * 60 + 1)  # inside the 60 s safety margin of the 15-minute token
    later = await adapter.sink.emit(event(conv, Step.PROGRESS, "Working… 60%", ref=ref, percent=60))
    await adapter.sink.flush("job1")
    assert later == ref.split("|")[0]  # same message; the spent token is no longer persisted
    assert webhook_edits(fake) == ["Got it!"]
    assert bot_edits(fake) == ["Working… 60%"]


async def test_a_rejected_token_falls_back_to_bot_token_edits(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter, vclock: FakeClock
) -> None:
    conv, ref = await start_job(fake, service)
    fake.expired_tokens.update(d["token"] for d in fake.interactions.values())
    vclock.advance(5)
    await adapter.sink.emit(event(conv, Step.PROGRESS, "Working… 20%", ref=ref, percent=20))
    await adapter.sink.flush("job1")
    assert [r.status for r in fake.find("PATCH", "/messages/@original")] == [200, 401]
    assert bot_edits(fake) == ["Working… 20%"]


async def test_old_messages_are_edited_at_most_once_a_minute(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter, vclock: FakeClock
) -> None:
    conv, ref = await start_job(fake, service)
    vclock.advance(3600)
    await adapter.sink.emit(event(conv, Step.PROGRESS, "Working… 90%", ref=ref, percent=90))
    await adapter.sink.flush("job1")
    await adapter.sink.emit(event(conv, Step.PROGRESS, "Almost there…", ref=ref, percent=95))
    vclock.advance(30)
    assert bot_edits(fake) == ["Working… 90%"]
    vclock.advance(30)
    await adapter.sink.flush("job1")
    assert bot_edits(fake) == ["Working… 90%", "Almost there…\n▰▰▰▰▰▰▰▰▰▱ 95%"]


async def test_status_ref_from_before_a_restart_edits_the_same_message(
    fake: FakeDiscord, service: RecordingService, vclock: FakeClock
) -> None:
    async with running_adapter(fake, service, vclock):
        conv, ref = await start_job(fake, service)
    decoded = MessageRef.decode(ref)
    assert decoded is not None
    async with running_adapter(fake, RecordingService(), vclock) as fresh:
        vclock.advance(20 * 60)
        again = await fresh.sink.emit(event(conv, Step.PROGRESS, "Working… 40%", ref=ref, percent=40))
        await fresh.sink.flush("job1")
    assert MessageRef.decode(again) == decoded.without_token()  # same message; the expired token is dropped
    (edit,) = [r for r in fake.requests if r.method == "PATCH" and "/channels/" in r.path]
    assert edit.path == f"/api/v10/channels/{decoded.channel_id}/messages/{decoded.message_id}"


async def test_mention_job_status_is_a_reply_to_the_users_message(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    sent = await fake.message("make a video of a dog")
    (post,) = await fake.wait_for_request("POST", f"/channels/{fake.channel.id}/messages")
    assert str(post.body["message_reference"]["message_id"]) == sent["id"]
    assert post.content == "Got it!"
    assert service.calls[0].text == "make a video of a dog"


def conv_platform():  # type: ignore[no-untyped-def]
    from core.types import Platform

    return Platform.DISCORD


async def test_mention_where_the_bot_cannot_post_is_answered_in_dm(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    fake.channel.deny_send = True
    await fake.message("a video of the sea")
    dm = fake.dm_channel_for(fake.alice)
    (post,) = await fake.wait_for_request("POST", f"/channels/{dm.id}/messages")
    assert post.content is not None and "Got it!" in post.content and "couldn't post" in post.content
    async with asyncio.timeout(10):
        await service.acked.wait()
    assert service.refs["job1"] is not None and service.refs["job1"].startswith(f"{dm.id}/")


async def test_many_or_large_images_attach_what_fits_and_link_the_rest(
    fake: FakeDiscord, service: RecordingService, adapter: DiscordAdapter
) -> None:
    conv, _ = await start_job(fake, service)
    urls = [fake.add_blob(f"img{i}.png", size=9 * MiB, content_type="image/png") for i in range(4)]
    await adapter.sink.emit(
        event(conv, Step.SUCCESS, "4 images", media=tuple(MediaResult(u, MediaType.IMAGE) for u in urls))
    )
    (post,) = fake.find("POST", f"/channels/{fake.channel.id}/messages")
    assert [f.filename for f in post.files] == ["result-1.png", "result-2.png"]  # 18 of 25 MiB
    assert post.content is not None and f"\n{urls[2]}\n{urls[3]}\n" in post.content
