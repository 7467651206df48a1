"""Point discord.py at another REST base / gateway (a proxy, or a fake Discord in tests).

discord.py keeps both as class attributes (``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY``), so the
override is process-wide by necessity; it is applied once, before login, by whoever starts the client.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def apply_endpoint_overrides(api_base_url: str | None, gateway_url: str | None) -> None:
    discord.http.Route.BASE = (api_base_url or DISCORD_API_BASE).rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url or DISCORD_GATEWAY)
