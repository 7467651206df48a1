"""JSON shapes the fake Discord sends. Only the keys discord.py 2.7 reads without a default, plus the
few the adapter looks at; everything else is left out on purpose."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

APP_ID = "1100000000000000001"
BOT_ID = APP_ID
GUILD_ID = "1200000000000000001"
TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"
ALL_PERMISSIONS = str((1 << 50) - 1)


class Snowflakes:
    def __init__(self, start: int = 1_300_000_000_000_000_000) -> None:
        self._counter = itertools.count(start)

    def next(self) -> str:
        return str(next(self._counter))


@dataclass(frozen=True)
class FakeUser:
    id: str
    name: str
    bot: bool = False
    permissions: str = ALL_PERMISSIONS  # in guilds (a plain member: "0" plus what its roles give)
    roles: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    id: str
    name: str
    guild_id: str | None  # None for a DM channel
    recipient: FakeUser | None = None
    # Permission faults: Discord answers 403 / 50013 for these.
    deny_send: bool = False
    deny_attach: bool = False
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        if self.guild_id is None:
            recipients = [self.recipient.payload()] if self.recipient else []
            return {"id": self.id, "type": 1, "last_message_id": None, "recipients": recipients}
        return {
            "id": self.id,
            "type": 0,
            "name": self.name,
            "guild_id": self.guild_id,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
        }


def member_payload(user: FakeUser) -> dict[str, Any]:
    return {
        "user": user.payload(),
        "roles": list(user.roles),
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "pending": False,
        "permissions": user.permissions,
    }


def guild_payload(
    guild_id: str, name: str, channels: list[FakeChannel], bot: FakeUser, premium_tier: int
) -> dict[str, Any]:
    everyone = {
        "id": guild_id,
        "name": "@everyone",
        "permissions": ALL_PERMISSIONS,
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "owner_id": bot.id,
        "unavailable": False,
        "large": False,
        "member_count": 2,
        "premium_tier": premium_tier,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [everyone],
        "members": [member_payload(bot)],
        "channels": [c.payload() for c in channels],
        "threads": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "preferred_locale": "en-US",
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "system_channel_flags": 0,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": TIMESTAMP,
    }


def message_payload(
    message_id: str,
    channel: FakeChannel,
    author: FakeUser,
    content: str,
    *,
    attachments: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    mentions: list[FakeUser] | None = None,
    reference: dict[str, Any] | None = None,
    interaction_id: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel.id,
        "author": author.payload(),
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [m.payload() for m in (mentions or [])],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": components or [],
    }
    if channel.guild_id is not None:
        data["guild_id"] = channel.guild_id
    if reference is not None:
        data["message_reference"] = reference
    if interaction_id is not None:
        data["interaction_metadata"] = {
            "id": interaction_id,
            "type": 2,
            "user": author.payload(),
            "authorizing_integration_owners": {},
        }
    return data


def attachment_payload(
    attachment_id: str, filename: str, size: int, url: str, content_type: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type is not None:
        data["content_type"] = content_type
    return data
