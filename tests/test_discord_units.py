"""Pure pieces of the Discord adapter: message refs, formatting, throttling, input checks, translation."""

from __future__ import annotations

from pathlib import Path

import discord
import httpx
import pytest
from aiohttp import web
from discord import app_commands

from adapters.chat.texts import chat_messages
from adapters.discord import MESSAGES_PACKAGE
from adapters.discord.download import DiscordAttachmentFetcher
from adapters.discord.inbound import ANY_MEDIA, IMAGE_ONLY, check, kind_of, strip_mentions
from adapters.discord.language import language_of
from adapters.discord.refs import MessageRef
from adapters.discord.render import MAX_CONTENT, progress_bar, result_content, status_content, suppress_embeds
from adapters.discord.translator import CatalogTranslator, ls
from adapters.media.remote import SafeRemoteFetcher
from core.errors import InputError
from core.media.ports import MediaTooLargeError, UnsafeUrlError, UnsafeUrlReason
from core.types import Attachment, AttachmentKind, Language


def test_message_ref_round_trips_with_and_without_a_token() -> None:
    plain = MessageRef(15, 42, 1_767_225_600.0)
    with_token = MessageRef(15, 42, 1_767_225_600.0, "aW50ZXJhY3Rpb24:tok", 1_767_226_500.0)
    assert MessageRef.decode(plain.encode()) == plain
    assert MessageRef.decode(with_token.encode()) == with_token
    assert with_token.token_usable(1_767_226_000.0, 60) and not with_token.token_usable(1_767_226_450.0, 60)
    assert MessageRef.decode(None) is None and MessageRef.decode("msg-1") is None


def test_status_text_keeps_the_core_wording_and_suppresses_link_previews() -> None:
    text = "Generating… 40%\nsee https://example.com/x"
    assert status_content(text, 40) == "Generating… 40%\nsee <https://example.com/x>"
    assert status_content("Working", 60) == "Working\n▰▰▰▰▰▰▱▱▱▱ 60%"
    assert progress_bar(95).startswith("▰" * 9 + "▱")  # never looks finished before it is


def test_result_text_mentions_unfurls_and_stays_within_discords_limit() -> None:
    content = result_content("7", "x" * 5000, ["https://cdn/v.mp4"], [])
    lines = content.split("\n")
    assert lines[:2] == ["<@7>", "https://cdn/v.mp4"]
    assert len(content) <= MAX_CONTENT and content.endswith("…")
    assert result_content(None, "Here: https://a.b/c", [], []) == "Here: <https://a.b/c>"
    assert suppress_embeds("<https://a.b> and (https://c.d)") == "<https://a.b> and (https://c.d)"


def test_attachment_kinds_and_limits() -> None:
    assert kind_of("image/webp", "a") == AttachmentKind.IMAGE
    assert kind_of(None, "clip.MP4") == AttachmentKind.VIDEO
    assert kind_of("application/zip", "x.zip") == AttachmentKind.OTHER
    song = Attachment(AttachmentKind.AUDIO, "s.mp3", "discord:u", size=3 * 1024 * 1024)
    assert check(song, "reference", ANY_MEDIA, 10 * 1024 * 1024, "e") is None
    refused = check(song, "first_frame", IMAGE_ONLY, 10 * 1024 * 1024, "discord.expected.image")
    assert refused is not None and refused.key == "discord.error.attachment_kind"
    too_big = check(song, "reference", ANY_MEDIA, 1024 * 1024, "e")
    assert too_big is not None and too_big.params["size_mb"] == "3.0"


def test_only_the_bots_own_mention_is_removed() -> None:
    assert strip_mentions("<@99> a cat <@!99> with <@5>", 99) == "a cat with <@5>"


def test_language_follows_the_discord_locale() -> None:
    assert language_of(discord.Locale.chinese) == Language.ZH
    assert language_of(discord.Locale.taiwan_chinese) == Language.ZH
    assert language_of(discord.Locale.japanese) == Language.EN
    assert language_of(None, Language.ZH) == Language.ZH


async def test_translator_gives_chinese_names_from_the_catalog_only_for_chinese() -> None:
    messages = chat_messages(None, MESSAGES_PACKAGE)
    translator = CatalogTranslator(messages)
    name = ls(messages, "discord.cmd.video.name")
    context = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, None)
    assert name.message == "video"
    assert await translator.translate(name, discord.Locale.chinese, context) == "视频"
    assert await translator.translate(name, discord.Locale.french, context) is None
    seconds = ls(messages, "discord.choice.seconds", n=10)
    assert await translator.translate(seconds, discord.Locale.chinese, context) == "10 秒"


def test_every_discord_name_in_the_catalog_is_a_valid_command_name() -> None:
    messages = chat_messages(None, MESSAGES_PACKAGE)
    names = [
        k
        for k in messages.all_keys()
        if k.startswith(("discord.cmd.", "discord.opt.")) and k.endswith(".name")
    ]
    assert names
    for key in names:
        for language in Language:
            value = messages.text(key, language)
            assert app_commands.commands.validate_name(value) == value, key


async def test_attachment_fetcher_only_reaches_discord_hosts(tmp_path: Path) -> None:
    seen: list[str] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, content=b"x" * 50)

    async def public(host: str, port: int) -> list[str]:
        return ["162.159.130.233"]

    safe = SafeRemoteFetcher(transport=httpx.MockTransport(cdn), resolver=public)
    fetcher = DiscordAttachmentFetcher(safe, frozenset({"127.0.0.1"}))
    ok = Attachment(
        AttachmentKind.IMAGE, "a.png", "discord:https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"
    )
    assert (await fetcher.fetch(ok, tmp_path, 100)).name == "a.png"
    b = await fetcher.fetch(Attachment(AttachmentKind.IMAGE, "b.png", "discord:http://127.0.0.1:9/cdn/b"),
                            tmp_path, 100)
    assert b.name == "b.png"
    for ref in (
        "discord:http://169.254.169.254/latest",
        "https://cdn.discordapp.com/x",
        "discord:file:///etc/x",
    ):
        with pytest.raises(InputError):
            await fetcher.fetch(Attachment(AttachmentKind.IMAGE, "x", ref), tmp_path, 100)
    with pytest.raises(MediaTooLargeError):  # over the cap: "too large", not "download failed"
        await fetcher.fetch(ok, tmp_path, 5)
    assert seen == ["cdn.discordapp.com", "127.0.0.1", "cdn.discordapp.com"]
    await safe.aclose()


async def test_a_discord_host_redirecting_into_private_space_is_refused_before_connecting(
        tmp_path: Path) -> None:
    """The campaign's SSRF: a URL on a trusted attachment host (here a real loopback server standing in
    for the CDN) answers with a redirect to 10.0.0.1; nothing but 127.0.0.1 is ever connected to."""
    requests: list[str] = []

    async def cdn(request: web.Request) -> web.StreamResponse:
        requests.append(request.path)
        raise web.HTTPFound("http://10.0.0.1/internal/secret.png")

    app = web.Application()
    app.router.add_get("/cdn/cat.png", cdn)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    safe = SafeRemoteFetcher()
    try:
        fetcher = DiscordAttachmentFetcher(safe, frozenset({"127.0.0.1"}))
        ref = Attachment(AttachmentKind.IMAGE, "cat.png", f"discord:http://127.0.0.1:{port}/cdn/cat.png")
        with pytest.raises(UnsafeUrlError) as refused:
            await fetcher.fetch(ref, tmp_path, 1000)
    finally:
        await safe.aclose()
        await runner.cleanup()
    assert refused.value.reason == UnsafeUrlReason.PRIVATE_ADDRESS
    assert requests == ["/cdn/cat.png"]
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - a test assertion
