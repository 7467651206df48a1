"""Builders for ``Conversation`` values."""

from __future__ import annotations

import itertools

from core.types import Conversation, Platform

_MESSAGE_IDS = itertools.count(1)


def conversation(platform: Platform = Platform.CONSOLE, *, user_id: str = "user-1", chat_id: str = "chat-1",
                 message_id: str | None = None, is_direct: bool = True) -> Conversation:
    """A conversation with a fresh message id unless one is given."""
    return Conversation(platform=platform, chat_id=chat_id, user_id=user_id,
                        message_id=message_id or f"m{next(_MESSAGE_IDS)}", is_direct=is_direct)
