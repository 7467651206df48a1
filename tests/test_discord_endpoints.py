# ruff: noqa: F811  (pytest fixtures are imported by name and then requested as arguments)
"""Endpoint overrides as operators and independent fakes write them: with or without a trailing slash or
``/api/v10``, a gateway with or without query, or no gateway at all (asked from the REST override);
attachment files served from the hosts of those overrides and nowhere else."""

from __future__ import annotations

from pathlib import Path

import discord.gateway
import discord.http
import httpx
import pytest

from adapters.discord.adapter import DiscordAdapter, DiscordConfig
from adapters.discord.client import ClientOptions
from adapters.discord.download import DiscordAttachmentFetcher, attachment_ref
from adapters.discord.endpoints import normalized_api_base, normalized_gateway, override_hosts
from adapters.media.remote import SafeRemoteFetcher
from core.clock import FakeClock
from core.errors import InputError
from core.types import Attachment, AttachmentKind
from tests.discord_fake.fake_service import RecordingService
from tests.discord_fake.fixtures import fake  # noqa: F401
from tests.discord_fake.harness import TOKEN, running_adapter
from tests.discord_fake.server import FakeDiscord


@pytest.mark.parametrize("given", [
    "http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/api", "http://127.0.0.1:8081/api/",
    "http://127.0.0.1:8081/api/v10", "http://127.0.0.1:8081/api/v10/", " http://127.0.0.1:8081/api/v10 ",
])
def test_api_base_is_the_versioned_api_root_however_it_is_written(given: str) -> None:
    assert normalized_api_base(given) == "http://127.0.0.1:8081/api/v10"


def test_api_base_keeps_a_proxy_prefix_and_an_explicit_version() -> None:
    assert normalized_api_base("https://proxy.example/discord") == "https://proxy.example/discord/api/v10"
    assert normalized_api_base("http://127.0.0.1:9/api/v9") == "http://127.0.0.1:9/api/v9"
    assert normalized_api_base(None) == "https://discord.com/api/v10"


@pytest.mark.parametrize("given", ["ws://127.0.0.1:8081", "ws://127.0.0.1:8081/"])
def test_a_bare_gateway_host_dials_its_root(given: str) -> None:
    assert str(normalized_gateway(given)) == "ws://127.0.0.1:8081/"


def test_gateway_query_is_replaced_by_the_one_discord_py_sends() -> None:
    gateway = normalized_gateway("ws://127.0.0.1:8081/gateway?v=10&encoding=json")
    assert str(gateway.with_query(v=10, encoding="json")) == "ws://127.0.0.1:8081/gateway?v=10&encoding=json"


def test_override_hosts_trust_every_loopback_spelling_only_for_a_loopback_override() -> None:
    assert override_hosts("http://127.0.0.1:1/api/v10", None) >= {"localhost", "127.0.0.1", "::1"}
    assert override_hosts("https://proxy.example/api", "wss://gw.example/") == {"proxy.example", "gw.example"}


def _ref(url: str) -> Attachment:
    return Attachment(kind=AttachmentKind.IMAGE, ref=attachment_ref(url), name="cat.png")


async def test_fetcher_downloads_from_the_gateway_host_and_refuses_other_hosts(tmp_path: Path) -> None:
    urls: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        urls.append(f"https://{request.headers['host']}{request.url.path}")
        return httpx.Response(200, content=b"PNG")

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    safe = SafeRemoteFetcher(transport=httpx.MockTransport(serve), resolver=public)
    fetcher = DiscordAttachmentFetcher(safe, override_hosts("https://api.fake.test/api/v10", None))
    with pytest.raises(InputError):
        await fetcher.fetch(_ref("https://cdn.fake.test/a/cat.png"), tmp_path, 100)
    fetcher.trust(override_hosts("wss://cdn.fake.test/"))
    await fetcher.fetch(_ref("https://CDN.fake.test/a/cat.png"), tmp_path, 100)
    for foreign in ("http://169.254.169.254/latest", "http://127.0.0.1:1/x.png", "file:///etc/passwd"):
        with pytest.raises(InputError):
            await fetcher.fetch(_ref(foreign), tmp_path, 100)
    assert urls == ["https://CDN.fake.test/a/cat.png"]
    await safe.aclose()


@pytest.mark.parametrize("suffix", ["", "/", "/api"])
async def test_login_without_a_gateway_override_asks_the_rest_override_for_it(
    fake: FakeDiscord, suffix: str
) -> None:
    config = DiscordConfig(token=TOKEN, api_base_url=f"http://127.0.0.1:{fake.port}{suffix}",
                           client=ClientOptions(guild_ready_timeout_s=0.05))
    adapter = DiscordAdapter(config, RecordingService(), FakeClock())
    try:
        await adapter.start()
        await adapter.wait_until_ready()
    finally:
        await adapter.aclose()
    assert fake.api_base_url == discord.http.Route.BASE
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert fake.identifies == 1
    assert [r.path for r in fake.requests][:3] == ["/api/v10/users/@me", "/api/v10/oauth2/applications/@me",
                                                   "/api/v10/gateway/bot"]


async def test_a_fake_answering_json_with_a_charset_still_serves_a_slash_command(fake: FakeDiscord) -> None:
    fake.json_charset = True
    service = RecordingService()
    async with running_adapter(fake, service, FakeClock()) as adapter:
        await fake.slash("image", {"prompt": "a red fox"})
        await fake.wait_for(lambda _: bool(fake.find("PATCH", "/messages/@original")))
        assert str(adapter.client.application_id) == fake.bot.id
    assert fake.find("POST", "/callback")[0].body["type"] == 5
    assert [c.text for c in service.calls] == ["a red fox"]


@pytest.mark.parametrize("answer", [(404, {"code": 0, "message": "not in this fake"}), (200, {"id": "7"})])
async def test_a_fake_without_full_application_info_still_logs_in(
    fake: FakeDiscord, answer: tuple[int, dict[str, str]]
) -> None:
    status, body = answer
    fake.add_fault("GET", r"/oauth2/applications/@me$", status, body)
    service = RecordingService()
    async with running_adapter(fake, service, FakeClock()) as adapter:
        await fake.slash("image", {"prompt": "a red fox"})
        await fake.wait_for(lambda _: bool(fake.find("PATCH", "/messages/@original")))
        assert str(adapter.client.application_id) == body.get("id", fake.bot.id)
    assert [c.text for c in service.calls] == ["a red fox"]


async def test_a_local_fake_naming_the_real_gateway_is_not_followed_there(fake: FakeDiscord) -> None:
    fake.add_fault("GET", r"/gateway(/bot)?$", 200, {"url": "wss://gateway.discord.gg"}, times=2)
    config = DiscordConfig(token=TOKEN, api_base_url=f"http://127.0.0.1:{fake.port}")
    adapter = DiscordAdapter(config, RecordingService(), FakeClock())
    try:
        await adapter.login()
    finally:
        await adapter.aclose()
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == f"ws://127.0.0.1:{fake.port}/"
    assert len(fake.find("GET", "/gateway")) == 2
