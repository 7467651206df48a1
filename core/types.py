"""Small shared value types used across the domain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TaskType(StrEnum):
    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_TO_VIDEO = "image_to_video"
    FIRST_LAST_FRAME_TO_VIDEO = "first_last_frame_to_video"
    REFERENCE_IMAGE_TO_VIDEO = "reference_image_to_video"
    TEXT_TO_IMAGE = "text_to_image"
    IMAGE_TO_IMAGE = "image_to_image"
    TEXT_TO_MUSIC = "text_to_music"
    TEXT_TO_SPEECH = "text_to_speech"

    @property
    def media_type(self) -> MediaType:
        return _MEDIA_OF_TASK[self]


class MediaType(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    MUSIC = "music"
    SPEECH = "speech"


_MEDIA_OF_TASK: dict[TaskType, MediaType] = {
    TaskType.TEXT_TO_VIDEO: MediaType.VIDEO,
    TaskType.IMAGE_TO_VIDEO: MediaType.VIDEO,
    TaskType.FIRST_LAST_FRAME_TO_VIDEO: MediaType.VIDEO,
    TaskType.REFERENCE_IMAGE_TO_VIDEO: MediaType.VIDEO,
    TaskType.TEXT_TO_IMAGE: MediaType.IMAGE,
    TaskType.IMAGE_TO_IMAGE: MediaType.IMAGE,
    TaskType.TEXT_TO_MUSIC: MediaType.MUSIC,
    TaskType.TEXT_TO_SPEECH: MediaType.SPEECH,
}


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class AttachmentKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    OTHER = "other"


class Platform(StrEnum):
    CONSOLE = "console"
    DISCORD = "discord"
    FEISHU = "feishu"
    CLI = "cli"
    ECHO = "echo"  # the in-memory chat of adapters/echo


@dataclass(frozen=True, slots=True)
class Attachment:
    """Something a user attached or linked.

    ``ref`` is opaque to the core: a public URL, a local path (console), or a platform handle
    (e.g. ``feishu:<message_id>/<file_key>``) that the platform's ``AttachmentFetcher`` understands.
    ``role`` is an optional explicit role from a structured command: "first_frame", "last_frame",
    "reference" or None.
    """

    kind: AttachmentKind
    name: str
    ref: str
    size: int | None = None
    mime: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a request came from and where its replies go."""

    platform: Platform
    chat_id: str
    user_id: str
    message_id: str
    is_direct: bool = False
    thread_id: str | None = None
    user_display: str | None = None
    # The platform message this one replies to or quotes (a result or a status message), if any.
    reply_to: str | None = None
    # For access control and budgets: the Discord guild / Feishu tenant, the user's Discord role ids,
    # and whether the platform says the user manages this place (Discord's Manage Server).
    space_id: str | None = None
    roles: tuple[str, ...] = ()
    manager: bool = False


@dataclass(frozen=True, slots=True)
class MediaResult:
    """One finished asset of a task."""

    url: str
    kind: MediaType
    cover_url: str | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
