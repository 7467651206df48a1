"""Thread memory: the recent generations of each user in each chat, newest first.

Entries point at durable jobs (``core.jobs``): the job row already holds the request, the model, the
result and the platform messages that showed it, so the thread only remembers *which* jobs belong to
whom and in what order. The store keeps a bounded number of entries per user and chat (retention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.types import Conversation, Platform

DEFAULT_KEEP = 50  # entries kept per user and chat


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    platform: Platform
    chat_id: str
    user_id: str
    job_id: str
    at: float

    @classmethod
    def of(cls, conversation: Conversation, job_id: str, at: float) -> ThreadEntry:
        return cls(conversation.platform, conversation.chat_id, conversation.user_id, job_id, at)


class ThreadStore(Protocol):
    async def remember(self, entry: ThreadEntry) -> None:
        """Add ``entry`` (idempotent per job id) and forget this user and chat's oldest beyond the limit."""
        ...

    async def recent(self, platform: Platform, chat_id: str, user_id: str | None, limit: int
                     ) -> Sequence[ThreadEntry]:
        """Newest first; ``user_id=None`` means everyone in the chat."""
        ...

    async def recent_for_user(self, platform: Platform, user_id: str, limit: int) -> Sequence[ThreadEntry]:
        """This user's newest entries in every chat, newest first."""
        ...
