"""Persistent action buttons. The custom_id is the chat kit's action encoding
(``imabot:<action>:<target>``), so a click is understood by any process that registered
``ActionButton`` with ``client.add_dynamic_items`` — also after a restart."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import discord

from adapters.chat.actions import PATTERN, encode_action
from adapters.chat.texts import button_label
from core.messages import Messages
from core.platform import ActionKind, Choice
from core.types import Language

_log = logging.getLogger(__name__)
CUSTOM_ID = re.compile(PATTERN)
_STYLES = {
    ActionKind.RETRY: discord.ButtonStyle.primary,
    ActionKind.FASTER: discord.ButtonStyle.secondary,
    ActionKind.BETTER: discord.ButtonStyle.secondary,
    ActionKind.FIRST_FRAME: discord.ButtonStyle.secondary,
    ActionKind.CANCEL: discord.ButtonStyle.danger,
    ActionKind.CONFIRM: discord.ButtonStyle.success,
    ActionKind.DECLINE: discord.ButtonStyle.secondary,
}


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    def __init__(self, action: ActionKind, job_id: str, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action.value, style=_STYLES[action], custom_id=encode_action(action, job_id)
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        return cls(ActionKind(match["action"]), match["target"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = interaction.client
        if not hasattr(handler, "on_action"):
            _log.warning("button click reached a client without an action handler")
            return
        await handler.on_action(interaction, self.job_id, self.action)


def action_view(
    job_id: str, actions: Sequence[ActionKind], messages: Messages, language: Language
) -> discord.ui.View | None:
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions[:25]:
        view.add_item(ActionButton(action, job_id, button_label(messages, action, language)))
    return view


def choice_view(choices: Sequence[Choice]) -> discord.ui.View | None:
    """The buttons of a question, each acting on its own target (a job or the question)."""
    if not choices:
        return None
    view = discord.ui.View(timeout=None)
    for choice in choices[:25]:
        view.add_item(ActionButton(choice.action, choice.target_id, choice.label[:80]))
    return view
