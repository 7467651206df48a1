"""Helpers that inject gateway events (slash commands, autocomplete, button clicks, messages) into the
fake Discord, shaped like the payloads Discord sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.discord_fake.payloads import (
    APP_ID,
    GUILD_ID,
    FakeChannel,
    FakeUser,
    attachment_payload,
    member_payload,
    message_payload,
)

if TYPE_CHECKING:
    pass


class Injector:
    def attachment(
        self,
        filename: str,
        *,
        size: int | None = None,
        data: bytes | None = None,
        content_type: str | None = "image/png",
    ) -> dict[str, Any]:
        blob_name = f"{self.ids.next()}-{filename}"
        url = self.add_blob(blob_name, size=size, data=data, content_type=content_type or "")
        return attachment_payload(self.ids.next(), filename, self.blobs[blob_name].size, url, content_type)

    def _interaction_base(
        self, kind: int, user: FakeUser, channel: FakeChannel | None, locale: str
    ) -> dict[str, Any]:
        channel = channel or self.channel
        data: dict[str, Any] = {
            "id": self.ids.next(),
            "application_id": APP_ID,
            "type": kind,
            "token": f"tok-{self.ids.next()}",
            "version": 1,
            "channel_id": channel.id,
            "channel": channel.payload(),
            "locale": locale,
            "app_permissions": "0" if channel.deny_send else str((1 << 50) - 1),
            "attachment_size_limit": 10 * 1024 * 1024 if self.premium_tier < 2 else 50 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
        }
        if channel.guild_id is None:
            self.dm_channels.setdefault(channel.id, channel)
            data["user"] = user.payload()
            data["context"] = 1
        else:
            data["guild_id"] = channel.guild_id
            data["guild_locale"] = "en-US"
            data["member"] = member_payload(user)
            data["context"] = 0
        self.interactions[data["id"]] = data
        return data

    async def slash(
        self,
        name: str,
        options: dict[str, Any],
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
        attachments: dict[str, dict[str, Any]] | None = None,
        subcommand: str | None = None,
    ) -> dict[str, Any]:
        """Inject a slash command. ``attachments`` maps option name -> attachment payload."""
        data = self._interaction_base(2, user or self.alice, channel, locale)
        opts: list[dict[str, Any]] = [
            {"name": k, "type": _option_type(v), "value": v} for k, v in options.items()
        ]
        resolved: dict[str, Any] = {}
        for opt_name, att in (attachments or {}).items():
            opts.append({"name": opt_name, "type": 11, "value": att["id"]})
            resolved.setdefault("attachments", {})[att["id"]] = att
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data["data"] = {"id": self.ids.next(), "name": name, "type": 1, "options": opts, "resolved": resolved}
        await self.dispatch("INTERACTION_CREATE", data)
        return data

    async def autocomplete(
        self, name: str, options: dict[str, Any], focused: str, *, locale: str = "en-US"
    ) -> dict[str, Any]:
        data = self._interaction_base(4, self.alice, None, locale)
        opts = [
            {"name": k, "type": _option_type(v), "value": v, **({"focused": True} if k == focused else {})}
            for k, v in options.items()
        ]
        data["data"] = {"id": self.ids.next(), "name": name, "type": 1, "options": opts}
        await self.dispatch("INTERACTION_CREATE", data)
        return data

    async def click(
        self,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        channel = channel or self.channel
        data = self._interaction_base(3, user or self.alice, channel, locale)
        button = {"type": 2, "style": 2, "label": "x", "custom_id": custom_id}
        data["message"] = message_payload(
            self.ids.next(), channel, self.bot, "result", components=[{"type": 1, "components": [button]}]
        )
        data["data"] = {"custom_id": custom_id, "component_type": 2}
        await self.dispatch("INTERACTION_CREATE", data)
        return data

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """A modal's submission: one text input row per value."""
        data = self._interaction_base(5, user or self.alice, channel, locale)
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()]
        data["data"] = {"custom_id": custom_id, "components": rows}
        await self.dispatch("INTERACTION_CREATE", data)
        return data

    async def message(
        self,
        content: str,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        mention_bot: bool = True,
        attachments: list[dict[str, Any]] | None = None,
        reply_to: str | int | None = None,
    ) -> dict[str, Any]:
        """A user's message; ``reply_to`` makes it a reply to that message (Discord's message reference)."""
        channel = channel or self.channel
        author = user or self.alice
        text = f"<@{self.bot.id}> {content}" if mention_bot else content
        reference = None
        if reply_to is not None:
            reference = {"message_id": str(reply_to), "channel_id": str(channel.id)}
            if channel.guild_id is not None:
                reference["guild_id"] = str(channel.guild_id)
        data = message_payload(
            self.ids.next(),
            channel,
            author,
            text,
            attachments=attachments,
            mentions=[self.bot] if mention_bot else [],
            reference=reference,
        )
        if channel.guild_id is not None:
            member = member_payload(author)
            member.pop("user")
            data["member"] = member
        await self.dispatch("MESSAGE_CREATE", data)
        return data


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    return 3
