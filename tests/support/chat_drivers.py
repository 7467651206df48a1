"""One way to talk to the bot on each platform's fake, so the same conversation flows run on Discord
(real discord.py against tests/discord_fake) and Feishu (real lark-oapi against tests/feishu_fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from adapters.chat.actions import decode_action
from adapters.discord.refs import MessageRef
from core.conversation.service import ConversationService
from core.jobs import Job
from core.platform import ActionKind, ActionReply
from core.request import RequestOverrides
from core.types import Attachment, Conversation, Platform
from tests.discord_fake.server import FakeDiscord
from tests.feishu_fake.events import card_action_event, message_event
from tests.feishu_fake.server import FakeFeishu


class Counting:
    """The bot service as the adapter sees it, counting finished message hand-overs (no polling)."""

    def __init__(self, bot: ConversationService) -> None:
        self.bot = bot
        self.handled = 0
        self._changed = asyncio.Condition()

    async def handle_message(self, conversation: Conversation, text: str,
                             attachments: Sequence[Attachment] = (),
                             overrides: RequestOverrides | None = None) -> str | None:
        try:
            return await self.bot.handle_message(conversation, text, attachments, overrides)
        finally:
            async with self._changed:
                self.handled += 1
                self._changed.notify_all()

    async def handle_action(self, conversation: Conversation, job_id: str, action: ActionKind) -> ActionReply:
        return await self.bot.handle_action(conversation, job_id, action)

    async def wait_handled(self, count: int) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.handled >= count), 30)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)


class Driver(Protocol):
    bot: ConversationService
    platform: Platform

    def user_id(self, name: str) -> str: ...

    async def say(self, text: str, *, reply_to: Job | None = None, part: str = "result:0",
                  user: str = "alice") -> None:
        """Send ``text`` (as a reply to ``reply_to``'s message ``part``) and wait until it is handled."""
        ...

    async def click(self, action: ActionKind, target_id: str, *, user: str = "alice") -> str:
        """Press a button; returns what the user is shown for it (ephemeral note / toast)."""
        ...

    def replies(self) -> list[str]:
        """Every text the bot posted in the chat, oldest first."""
        ...

    def buttons(self) -> list[tuple[str, str]]:
        """(action, target id) of every button the bot posted, oldest first."""
        ...


class DiscordDriver:
    platform = Platform.DISCORD

    def __init__(self, fake: FakeDiscord, counting: Counting) -> None:
        self.fake = fake
        self.counting = counting
        self.bot = counting.bot
        self._sent = 0

    def user_id(self, name: str) -> str:
        return str((self.fake.alice if name == "alice" else self.fake.bob).id)

    async def say(self, text: str, *, reply_to: Job | None = None, part: str = "result:0",
                  user: str = "alice") -> None:
        replied = MessageRef.decode(reply_to.message_refs.get(part)) if reply_to is not None else None
        author = self.fake.alice if user == "alice" else self.fake.bob
        self._sent += 1
        await self.fake.message(text, user=author, reply_to=replied.message_id if replied else None)
        await self.counting.wait_handled(self._sent)

    async def click(self, action: ActionKind, target_id: str, *, user: str = "alice") -> str:
        author = self.fake.alice if user == "alice" else self.fake.bob
        before = len(self._notes())
        await self.fake.click(f"imabot:{action.value}:{target_id}", user=author)
        await self.fake.wait_for(lambda _: len(self._notes()) > before, within=30)
        return self._notes()[-1]

    def _notes(self) -> list[str]:
        """Ephemeral answers to button clicks (the deferred response, edited)."""
        return [r.content or "" for r in self.fake.find("PATCH", "/messages/@original")]

    def _posts(self) -> list[Any]:
        return self.fake.find("POST", f"/channels/{self.fake.channel.id}/messages")

    def replies(self) -> list[str]:
        return [r.content or "" for r in self._posts()]

    def buttons(self) -> list[tuple[str, str]]:
        ids = [c for r in self._posts() for c in r.custom_ids]
        return [(c.split(":")[1], c.split(":")[2]) for c in ids]


class FeishuDriver:
    platform = Platform.FEISHU

    def __init__(self, fake: FakeFeishu, counting: Counting, drain: Any) -> None:
        self.fake = fake
        self.counting = counting
        self.bot = counting.bot
        self._drain = drain

    def user_id(self, name: str) -> str:
        return f"ou_{name}"

    async def say(self, text: str, *, reply_to: Job | None = None, part: str = "result:0",
                  user: str = "alice") -> None:
        parent = reply_to.message_refs.get(part, "") if reply_to is not None else ""
        ack = await self.fake.push_event(message_event(text=text, user=f"ou_{user}", parent_id=parent))
        assert ack.code == 200 and ack.elapsed_s < 3.0
        await self._drain()

    async def click(self, action: ActionKind, target_id: str, *, user: str = "alice") -> str:
        card = next((m for m in reversed(self.fake.messages) if m.msg_type == "interactive"), None)
        ack = await self.fake.push_event(card_action_event(
            action=action.value, job_id=target_id, user=f"ou_{user}",
            message_id=card.message_id if card else "om_card"))
        assert ack.elapsed_s < 3.0 and ack.data is not None
        return str(ack.data["toast"]["content"])

    def replies(self) -> list[str]:
        return [m.content.get("text") or m.card_text for m in self.fake.messages]

    def buttons(self) -> list[tuple[str, str]]:
        found = []
        for m in self.fake.messages:
            if m.msg_type != "interactive":
                continue
            for element in m.content.get("body", {}).get("elements", []):
                behavior = (element.get("behaviors") or [{}])[0]
                if element.get("tag") == "button" and behavior.get("type") == "callback":
                    decoded = decode_action(str(behavior["value"].get("action", "")))
                    if decoded is not None:
                        found.append((decoded[0].value, decoded[1]))
        return found
