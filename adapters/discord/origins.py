"""The live interactions and messages this process received, keyed by the id the core sees as
``Conversation.message_id``. Lets the sink answer through the interaction (original response,
followups, the user's upload limit) while its 15-minute token lasts. Not persisted: after a restart
the sink works from the persisted message refs and bot-token endpoints alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from core.clock import Clock

TOKEN_LIFETIME_S = 15 * 60


@dataclass
class Origin:
    received_at: float
    interaction: discord.Interaction[Any] | None = None
    message: discord.Message | None = None
    owns_original: bool = False  # a slash command: its deferred original response is the status message
    original_used: bool = False

    @property
    def token_expires_at(self) -> float:
        return self.received_at + TOKEN_LIFETIME_S


class Origins:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._by_id: dict[str, Origin] = {}

    def add_interaction(self, interaction: discord.Interaction[Any], *, owns_original: bool) -> Origin:
        self._purge()
        origin = Origin(self._clock.now(), interaction=interaction, owns_original=owns_original)
        self._by_id[str(interaction.id)] = origin
        return origin

    def add_message(self, message: discord.Message) -> Origin:
        self._purge()
        origin = Origin(self._clock.now(), message=message)
        self._by_id[str(message.id)] = origin
        return origin

    def get(self, message_id: str) -> Origin | None:
        return self._by_id.get(message_id)

    def by_token(self, token: str) -> Origin | None:
        for origin in self._by_id.values():
            if origin.interaction is not None and origin.interaction.token == token:
                return origin
        return None

    def _purge(self) -> None:
        # Keep message origins as long as interactions: both only help within the first minutes.
        cutoff = self._clock.now() - TOKEN_LIFETIME_S
        for key in [k for k, o in self._by_id.items() if o.received_at < cutoff]:
            del self._by_id[key]
