"""Discord objects -> core values (conversations, attachments) and the checks done before any task."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.discord.download import attachment_ref
from core.types import Attachment, AttachmentKind, Conversation, Platform

IMAGE_ONLY = frozenset({AttachmentKind.IMAGE})
ANY_MEDIA = frozenset({AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO})
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an input was refused: a catalog key and its (user-safe) parameters."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


def kind_of(content_type: str | None, filename: str) -> AttachmentKind:
    mime = content_type or mimetypes.guess_type(filename)[0] or ""
    top = mime.split("/", 1)[0].lower()
    return {"image": AttachmentKind.IMAGE, "video": AttachmentKind.VIDEO, "audio": AttachmentKind.AUDIO}.get(
        top, AttachmentKind.OTHER
    )


def to_attachment(att: discord.Attachment, role: str | None = None) -> Attachment:
    mime = (att.content_type or "").split(";", 1)[0] or None
    return Attachment(
        kind=kind_of(mime, att.filename),
        name=att.filename,
        ref=attachment_ref(att.url),
        size=att.size,
        mime=mime,
        role=role,
    )


def check(
    attachment: Attachment, option: str, allowed: frozenset[AttachmentKind], max_bytes: int, expected_key: str
) -> Problem | None:
    if attachment.kind not in allowed:
        return Problem(
            "discord.error.attachment_kind",
            {"name": attachment.name, "option": option, "expected_key": expected_key},
        )
    if attachment.size is not None and attachment.size > max_bytes:
        return Problem(
            "discord.error.attachment_too_big",
            {
                "name": attachment.name,
                "size_mb": f"{attachment.size / 1048576:.1f}",
                "limit_mb": f"{max_bytes / 1048576:.0f}",
            },
        )
    return None


def first_problem(
    items: Iterable[tuple[Attachment, str, frozenset[AttachmentKind]]], max_bytes: int
) -> Problem | None:
    for attachment, option, allowed in items:
        expected = "discord.expected.image" if allowed == IMAGE_ONLY else "discord.expected.media"
        problem = check(attachment, option, allowed, max_bytes, expected)
        if problem is not None:
            return problem
    return None


def _display(user: discord.abc.User | None) -> str | None:
    return user.display_name if user is not None else None


def _roles(user: discord.abc.User | None) -> tuple[str, ...]:
    return tuple(str(role.id) for role in user.roles) if isinstance(user, discord.Member) else ()


def conversation_from_interaction(interaction: discord.Interaction[Any]) -> Conversation:
    in_guild = interaction.guild_id is not None
    return Conversation(
        platform=Platform.DISCORD,
        chat_id=str(interaction.channel_id or 0),
        user_id=str(interaction.user.id),
        message_id=str(interaction.id),
        is_direct=not in_guild,
        user_display=_display(interaction.user),
        space_id=str(interaction.guild_id) if in_guild else None,
        roles=_roles(interaction.user),
        manager=in_guild and interaction.permissions.manage_guild,
    )


def conversation_from_message(message: discord.Message) -> Conversation:
    reference = message.reference
    replied = reference.message_id if reference is not None else None
    return Conversation(
        platform=Platform.DISCORD,
        chat_id=str(message.channel.id),
        user_id=str(message.author.id),
        message_id=str(message.id),
        is_direct=message.guild is None,
        user_display=_display(message.author),
        reply_to=str(replied) if replied else None,  # a reply to a result or status message
        space_id=str(message.guild.id) if message.guild is not None else None,
        roles=_roles(message.author),
        manager=isinstance(message.author, discord.Member) and message.author.guild_permissions.manage_guild,
    )


def strip_mentions(content: str, bot_id: int) -> str:
    """Remove the bot's own mention; other users' mentions stay (they may be part of the prompt)."""
    return " ".join(_MENTION.sub(lambda m: "" if int(m.group(1)) == bot_id else m.group(0), content).split())


def addressed_to_bot(message: discord.Message, bot_user: discord.abc.User | None) -> bool:
    if bot_user is None or message.author.bot or message.author.id == bot_user.id:
        return False
    if message.guild is None:
        return True
    return any(m.id == bot_user.id for m in message.mentions) or bot_user.id in message.raw_mentions
