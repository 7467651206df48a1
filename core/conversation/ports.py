"""Seams of the conversation layer: what it needs from the edges and from the spend layer."""

from __future__ import annotations

from typing import Protocol

from core.types import Conversation, Language


class LastFrameSource(Protocol):
    """The last frame of a finished video, as a public image URL a new task can start from.

    A video's cover is its FIRST frame: starting a new clip from it restarts the scene instead of
    continuing it. Raises ``core.errors.ImabotError`` (an ``InputError``) when the video cannot be read.
    """

    async def last_frame_url(self, video_url: str) -> str: ...


class UsageAnswer(Protocol):
    """``core.spend``'s answer to "how much have I spent / what is left" for one user."""

    async def describe_usage(self, conversation: Conversation, language: Language) -> str: ...
