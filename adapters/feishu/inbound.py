"""Turn an ``im.message.receive_v1`` event (as a plain dict) into what the bot core understands.

Pure functions: no I/O, so every message shape is easy to test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.intent.hygiene import clean_text
from core.types import Attachment, AttachmentKind, Conversation, Platform

SUPPORTED_TYPES = frozenset({"text", "post", "image", "file", "audio", "media"})
_PLACEHOLDER = re.compile(r"@_user_\d+|@_all\b")  # @_all is "@everyone"
_SPACES = re.compile(r"[ \t]+")

_KIND_OF_TYPE = {"audio": AttachmentKind.AUDIO, "media": AttachmentKind.VIDEO}
_VIDEO_EXT = {"mp4", "mov", "m4v", "webm", "mkv", "avi"}
_IMAGE_EXT = {"png", "jpg", "jpeg", "webp", "gif", "bmp", "heic", "tif", "tiff"}
_AUDIO_EXT = {"mp3", "wav", "m4a", "aac", "ogg", "opus", "flac"}


@dataclass(frozen=True, slots=True)
class InboundMessage:
    event_id: str
    conversation: Conversation
    message_type: str
    text: str
    attachments: tuple[Attachment, ...]
    mentions_bot: bool
    from_user: bool

    @property
    def supported(self) -> bool:
        return self.message_type in SUPPORTED_TYPES

    @property
    def addressed_to_bot(self) -> bool:
        """DMs always are; in groups only messages that @mention the bot."""
        return self.conversation.is_direct or self.mentions_bot


def attachment_ref(message_id: str, key: str, resource_type: str) -> str:
    """The handle ``FeishuAttachmentFetcher`` understands: ``feishu:<message_id>/<key>/<type>``."""
    return f"feishu:{message_id}/{key}/{resource_type}"


def parse_attachment_ref(ref: str) -> tuple[str, str, str] | None:
    if not ref.startswith("feishu:"):
        return None
    parts = ref[len("feishu:"):].split("/")
    if len(parts) != 3 or not all(parts) or parts[2] not in ("image", "file"):
        return None
    return parts[0], parts[1], parts[2]


def parse_message_event(payload: Mapping[str, Any], bot_open_id: str | None) -> InboundMessage | None:
    """None when the payload is not a usable message event (malformed or missing ids)."""
    header = _map(payload.get("header"))
    event = _map(payload.get("event"))
    message = _map(event.get("message"))
    sender = _map(event.get("sender"))
    message_id = _str(message.get("message_id"))
    chat_id = _str(message.get("chat_id"))
    user_id = _str(_map(sender.get("sender_id")).get("open_id"))
    if not (message_id and chat_id):
        return None
    mentions = [_map(m) for m in _list(message.get("mentions"))]
    bot_keys = _bot_mention_keys(mentions, bot_open_id)
    message_type = _str(message.get("message_type"))
    content = _json_object(message.get("content"))
    text, attachments = _content(message_type, content, message_id, mentions, bot_keys)
    thread_id = _str(message.get("thread_id")) or None
    # A reply or quote names the message it answers (parent_id; root_id is the first of its thread).
    replied = _str(message.get("parent_id")) or _str(message.get("root_id")) or None
    conversation = Conversation(
        platform=Platform.FEISHU,
        chat_id=chat_id,
        user_id=user_id,
        message_id=message_id,
        is_direct=_str(message.get("chat_type")) == "p2p",
        thread_id=thread_id,
        reply_to=replied,
        space_id=_str(header.get("tenant_key")) or None,
    )
    return InboundMessage(
        event_id=_str(header.get("event_id")) or message_id,
        conversation=conversation,
        message_type=message_type,
        text=text,
        attachments=tuple(attachments),
        mentions_bot=bool(bot_keys),
        from_user=_str(sender.get("sender_type"), "user") == "user",
    )


def _bot_mention_keys(mentions: list[Mapping[str, Any]], bot_open_id: str | None) -> set[str]:
    keys = set()
    for mention in mentions:
        open_id = _str(_map(mention.get("id")).get("open_id"))
        # Without the bot's own id (bot info unavailable) every mention counts: Feishu only delivers group
        # messages that @mention the bot unless the app holds the sensitive all-messages permission.
        if bot_open_id is None or open_id == bot_open_id:
            keys.add(_str(mention.get("key")))
    return keys


def _content(
    message_type: str,
    content: Mapping[str, Any],
    message_id: str,
    mentions: list[Mapping[str, Any]],
    bot_keys: set[str],
) -> tuple[str, list[Attachment]]:
    names = {_str(m.get("key")): _str(m.get("name")) for m in mentions}
    if message_type == "text":
        return _clean(_str(content.get("text")), names, bot_keys), []
    if message_type == "post":
        return _post(content, message_id, names, bot_keys)
    if message_type == "image":
        key = _str(content.get("image_key"))
        return "", [_image(message_id, key)] if key else []
    if message_type in ("file", "audio", "media"):
        key = _str(content.get("file_key"))
        if not key:
            return "", []
        name = _str(content.get("file_name")) or _default_name(key, message_type)
        kind = _KIND_OF_TYPE.get(message_type) or _kind_of(name)
        return "", [Attachment(kind=kind, name=name, ref=attachment_ref(message_id, key, "file"))]
    return "", []


def _post(
    content: Mapping[str, Any], message_id: str, names: Mapping[str, str], bot_keys: set[str]
) -> tuple[str, list[Attachment]]:
    body = content
    if "content" not in body:  # some deliveries wrap the post in a locale: {"zh_cn": {...}}
        body = next((_map(v) for v in body.values() if isinstance(v, Mapping) and "content" in v), {})
    lines: list[str] = []
    attachments: list[Attachment] = []
    title = _str(body.get("title"))
    if title:
        lines.append(title)
    for paragraph in _list(body.get("content")):
        parts: list[str] = []
        for element in (_map(e) for e in _list(paragraph)):
            tag = _str(element.get("tag"))
            if tag in ("text", "a", "code_block", "md"):
                parts.append(_str(element.get("text")))
            elif tag == "at":
                user = _str(element.get("user_id"))
                if user not in bot_keys:
                    parts.append("@" + (names.get(user) or _str(element.get("user_name"))))
            elif tag == "img" and (key := _str(element.get("image_key"))):
                attachments.append(_image(message_id, key))
            elif tag == "media" and (key := _str(element.get("file_key"))):
                attachments.append(Attachment(kind=AttachmentKind.VIDEO, name=f"{key}.mp4",
                                              ref=attachment_ref(message_id, key, "file")))
        lines.append("".join(parts))
    text = "\n".join(line for line in lines if line.strip())
    return _clean(text, names, bot_keys), attachments


def _clean(text: str, names: Mapping[str, str], bot_keys: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(0)
        if key in bot_keys:
            return ""
        return "@" + names[key] if names.get(key) else ""

    stripped = _PLACEHOLDER.sub(replace, clean_text(text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in stripped.splitlines()).strip()


def _image(message_id: str, key: str) -> Attachment:
    ref = attachment_ref(message_id, key, "image")
    return Attachment(kind=AttachmentKind.IMAGE, name=f"{key}.png", ref=ref)


def _default_name(key: str, message_type: str) -> str:
    return key + {"audio": ".opus", "media": ".mp4"}.get(message_type, "")


def _kind_of(name: str) -> AttachmentKind:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _VIDEO_EXT:
        return AttachmentKind.VIDEO
    if ext in _IMAGE_EXT:
        return AttachmentKind.IMAGE
    if ext in _AUDIO_EXT:
        return AttachmentKind.AUDIO
    return AttachmentKind.OTHER


def _json_object(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, Mapping) else {}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default
