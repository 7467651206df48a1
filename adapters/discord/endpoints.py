"""Point discord.py at another REST base / gateway (a proxy, or a fake Discord in tests).

discord.py keeps both as class attributes (``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY``), so the
override is process-wide by necessity; it is applied once, before login, by whoever starts the client.

An override is accepted in the forms people write: with or without a trailing slash, and for the REST
base with or without Discord's ``/api/v10`` suffix (``http://127.0.0.1:8081``, ``…/api``, ``…/api/v10/``
all mean ``…/api/v10``). discord.py sets the gateway query (``v``, ``encoding``, ``compress``) itself,
so a gateway URL may carry its own query or none.

discord.py reads a REST body as JSON only when the Content-Type is exactly ``application/json``; many
servers (Express, aiohttp's ``json_response``) add ``; charset=utf-8``, which would make login fail
against such a proxy or fake. ``apply_endpoint_overrides`` installs a reader that accepts parameters.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import discord.gateway
import discord.http
import discord.webhook.async_
import yarl

from core.net import is_loopback_host

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"
API_VERSION_PATH = "/api/v10"
_VERSIONED = re.compile(r"/api/v\d+$")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def normalized_api_base(api_base_url: str | None) -> str:
    if not api_base_url or not api_base_url.strip():
        return DISCORD_API_BASE
    parts = urlsplit(api_base_url.strip())
    path = parts.path.rstrip("/")
    if not _VERSIONED.search(path):
        path = path + "/v10" if path.endswith("/api") else path + API_VERSION_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def normalized_gateway(gateway_url: str | None) -> yarl.URL:
    if not gateway_url or not gateway_url.strip():
        return yarl.URL(DISCORD_GATEWAY)
    url = yarl.URL(gateway_url.strip())
    return url.with_path("/") if url.path in ("", "/") else url


def apply_endpoint_overrides(api_base_url: str | None, gateway_url: str | None) -> None:
    discord.http.Route.BASE = normalized_api_base(api_base_url)
    set_gateway(normalized_gateway(gateway_url))
    # The REST client and the interaction/webhook client each hold their own reference.
    discord.http.json_or_text = json_or_text
    setattr(discord.webhook.async_, "json_or_text", json_or_text)  # noqa: B010 (not re-exported)


async def json_or_text(response: aiohttp.ClientResponse) -> dict[str, Any] | str:
    """discord.py's body reader, with ``application/json`` recognised whatever its parameters."""
    text = await response.text(encoding="utf-8")
    if response.content_type == "application/json" and text:
        parsed: dict[str, Any] = json.loads(text)
        return parsed
    return text


def set_gateway(url: yarl.URL) -> None:
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url


def override_hosts(*urls: str | None) -> frozenset[str]:
    """Host names of configured overrides: where a proxy or a fake also serves attachment files. A
    loopback override trusts every loopback spelling (a fake may say ``localhost`` for ``127.0.0.1``)."""
    hosts = {h.lower() for h in (urlsplit(u.strip()).hostname for u in urls if u) if h}
    if any(is_loopback_host(h) for h in hosts):
        hosts |= LOOPBACK_NAMES
    return frozenset(hosts)
