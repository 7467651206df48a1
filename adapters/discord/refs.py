"""Message references the runner persists so later events (also after a restart) edit the same message.

Encoded form: ``<channel_id>/<message_id>@<created_epoch>`` optionally followed by
``|i:<expires_epoch>:<interaction_token>`` while the message is an interaction's original response and the
15-minute token may still be used to edit it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class MessageRef:
    channel_id: int
    message_id: int
    created_at: float  # clock time the message was first posted (drives the 1-hour edit policy)
    token: str | None = None  # the interaction token, while it may be used
    token_expires_at: float | None = None

    def encode(self) -> str:
        base = f"{self.channel_id}/{self.message_id}@{int(self.created_at)}"
        if self.token and self.token_expires_at is not None:
            return f"{base}|i:{int(self.token_expires_at)}:{self.token}"
        return base

    @classmethod
    def decode(cls, raw: str | None) -> MessageRef | None:
        if not raw:
            return None
        head, _, interaction = raw.partition("|i:")
        location, _, created = head.partition("@")
        channel, _, message = location.partition("/")
        if not (channel.isdigit() and message.isdigit()):
            return None
        token: str | None = None
        expires: float | None = None
        if interaction:
            expiry, _, tok = interaction.partition(":")
            if expiry.isdigit() and tok:
                token, expires = tok, float(expiry)
        return cls(int(channel), int(message), float(created) if created.isdigit() else 0.0, token, expires)

    def token_usable(self, now: float, margin_s: float) -> bool:
        return (
            bool(self.token) and self.token_expires_at is not None and now < self.token_expires_at - margin_s
        )

    def without_token(self) -> MessageRef:
        return replace(self, token=None, token_expires_at=None)
