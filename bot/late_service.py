"""The service a chat platform talks to while ``imabot run`` is still building the app.

``imabot run`` connects the platforms that need no store (Discord) first and builds the rest (database,
IMA client, parser, pipeline) while the gateway handshake is under way. A platform gets this stand-in:
every call waits until the real service is bound and then goes to it. Platform handlers acknowledge
first and call the service after, so a message that arrives during start-up is acknowledged at once
and handled as soon as what it needs is ready; nothing is handled before, nothing is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from core.catalog.products import ProductLeaf
from core.messages import Messages
from core.platform import ActionKind, ActionReply, BotService
from core.request import RequestOverrides
from core.spend.admin import AdminCommand
from core.spend.ports import SpendDeskPort, spend_desk_of
from core.types import Attachment, Conversation, Language, Platform, TaskType


class ServiceUnavailableError(RuntimeError):
    """The app was built without the part a platform asked for (a spend desk)."""


class LateService:
    def __init__(self, messages: Messages) -> None:
        self._messages = messages
        self._bound: BotService | None = None
        self._ready = asyncio.Event()

    def bind(self, service: BotService) -> None:
        self._bound = service
        self._ready.set()

    async def service(self) -> BotService:
        await self._ready.wait()
        assert self._bound is not None
        return self._bound

    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None) -> str | None:
        return await (await self.service()).handle_message(conversation, text, attachments, overrides)

    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        return await (await self.service()).handle_action(conversation, job_id, action)

    async def models_for(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        return await (await self.service()).models_for(task_type)

    async def describe_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await (await self.service()).describe_preferences(platform, user_id, language)

    async def clear_preferences(self, platform: Platform, user_id: str, language: Language) -> str:
        return await (await self.service()).clear_preferences(platform, user_id, language)

    def help_text(self, language: Language) -> str:
        if self._bound is not None:
            return self._bound.help_text(language)
        from core.conversation.answers import help_text  # the same text, from the message catalog alone

        return help_text(self._messages, None, language)

    @property
    def spend(self) -> SpendDeskPort:
        """The bound service's spend desk (``core.spend.ports.spend_desk_of`` finds it here)."""
        desk = spend_desk_of(self._bound) if self._bound is not None else None
        return desk if desk is not None else _LateDesk(self)


class _LateDesk:
    """The spend desk of a service not bound yet: each call waits for it."""

    def __init__(self, late: LateService) -> None:
        self._late = late

    async def _desk(self) -> SpendDeskPort:
        desk = spend_desk_of(await self._late.service())
        if desk is None:
            raise ServiceUnavailableError("the service has no spend desk")
        return desk

    async def describe_usage(self, conversation: Conversation, language: Language) -> str:
        return await (await self._desk()).describe_usage(conversation, language)

    async def link_key(self, conversation: Conversation, key: str, language: Language) -> str:
        return await (await self._desk()).link_key(conversation, key, language)

    async def remove_key(self, conversation: Conversation, language: Language) -> str:
        return await (await self._desk()).remove_key(conversation, language)

    def is_admin(self, conversation: Conversation) -> bool:
        return False  # fails closed: nobody is taken for an admin before the settings' list is in use

    async def admin(self, conversation: Conversation, command: AdminCommand, language: Language) -> str:
        return await (await self._desk()).admin(conversation, command, language)

    async def answer_pending(self, conversation: Conversation, yes: bool) -> str | None:
        return await (await self._desk()).answer_pending(conversation, yes)
