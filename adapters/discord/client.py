"""The discord.py client: slash commands, @mentions and DMs in; buttons; all handed to ``BotService``.

Every handler acknowledges first (defer or an ephemeral reply) and only then awaits the service, so the
3-second interaction deadline holds however slow IMA is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.chat.texts import chat_messages, internal_error, reply_language
from adapters.discord import MESSAGES_PACKAGE
from adapters.discord.buttons import ActionButton
from adapters.discord.commands import CommandRequest, build_commands
from adapters.discord.inbound import (
    ANY_MEDIA,
    Problem,
    addressed_to_bot,
    conversation_from_interaction,
    conversation_from_message,
    first_problem,
    strip_mentions,
    to_attachment,
)
from adapters.discord.language import language_of
from adapters.discord.origins import Origins
from adapters.discord.spend_commands import SpendCommands, build_spend_commands
from adapters.discord.translator import CatalogTranslator
from core.catalog.products import ProductLeaf
from core.intent.hygiene import clean_text
from core.messages import Messages
from core.platform import ActionKind, BotService
from core.request import RequestOverrides
from core.types import Language, MediaType, Platform, TaskType

_log = logging.getLogger(__name__)
AUTOCOMPLETE_LIMIT = 25
TEXT_TASK = {
    MediaType.VIDEO: TaskType.TEXT_TO_VIDEO,
    MediaType.IMAGE: TaskType.TEXT_TO_IMAGE,
    MediaType.MUSIC: TaskType.TEXT_TO_MUSIC,
    MediaType.SPEECH: TaskType.TEXT_TO_SPEECH,
}
UNKNOWN_MODEL_SUGGESTIONS = 6


@dataclass(frozen=True, slots=True)
class ClientOptions:
    max_attachment_bytes: int = 50 * 1024 * 1024
    default_language: Language = Language.ZH
    application_id: int | None = None
    max_ratelimit_timeout_s: float = 30.0  # longer 429 waits surface as errors instead of stalling
    guild_ready_timeout_s: float = 2.0  # how long READY waits for more GUILD_CREATEs
    autocomplete_budget_s: float = 2.0  # autocomplete cannot be deferred: Discord allows 3 s
    # Gateway sharding across replicas: this process connects as shard ``shard_id`` of ``shard_count``.
    shard_id: int | None = None
    shard_count: int | None = None


class ImabotDiscordClient(discord.Client):
    def __init__(
        self, service: BotService, messages: Messages, origins: Origins, options: ClientOptions
    ) -> None:
        # Default intents (no privileged message_content): mentions and DMs still carry their content.
        extra: dict[str, Any] = {}
        if options.application_id is not None:
            extra["application_id"] = options.application_id
        if options.shard_count is not None:
            extra.update(shard_id=options.shard_id or 0, shard_count=options.shard_count)
        super().__init__(
            intents=discord.Intents.default(),
            max_ratelimit_timeout=options.max_ratelimit_timeout_s,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=options.guild_ready_timeout_s,
            **extra,
        )
        self.service = service
        self.messages = chat_messages(messages, MESSAGES_PACKAGE)
        self.origins = origins
        self.options = options
        self.tree = app_commands.CommandTree(
            self,
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        for command in build_commands(messages, self):
            self.tree.add_command(command)
        for spend_command in build_spend_commands(messages, SpendCommands(service, messages)):
            self.tree.add_command(spend_command)
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]
        self.identifying = asyncio.Event()  # set when the first gateway IDENTIFY is about to be sent

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        await super().before_identify_hook(shard_id, initial=initial)
        self.identifying.set()

    async def application_info(self) -> discord.AppInfo:
        """discord.py reads this at login and needs every field of Discord's answer; a proxy or fake that
        answers with less (or not at all) still identifies the app: its id is the bot user's id unless
        ``application_id`` is configured."""
        user = self._connection.user
        if user is None:
            return await super().application_info()
        try:
            answer: Any = await self.http.application_info()
        except discord.NotFound:
            answer = None
        data: dict[str, Any] = answer if isinstance(answer, dict) else {}
        app_id = data.get("id") or self.options.application_id or user.id
        owner = {"id": str(user.id), "username": user.name, "discriminator": "0", "avatar": None}
        defaults = {"name": user.name, "description": "", "icon": None, "bot_public": False,
                    "bot_require_code_grant": False, "owner": owner, "verify_key": "", "flags": 0}
        payload: Any = {**defaults, **data, "id": str(app_id)}
        return discord.AppInfo(self._connection, payload)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(self.messages))
        self.add_dynamic_items(ActionButton)

    def _text(self, key: str, language: Language, **params: Any) -> str:
        return self.messages.text(key, language, **params)

    def _problem_text(self, problem: Problem, language: Language) -> str:
        params = dict(problem.params)
        expected_key = params.pop("expected_key", None)
        if expected_key:
            params["expected"] = self._text(expected_key, language)
        return self._text(problem.key, language, **params)

    # ------------------------------------------------------------------ slash commands
    async def run_command(self, interaction: discord.Interaction[Any], request: CommandRequest) -> None:
        language = reply_language(request.prompt, self._user_language(interaction))
        roles = {f.role for f in request.files}
        problem: Problem | None = None
        if "last_frame" in roles and "first_frame" not in roles:
            problem = Problem("discord.error.last_frame_alone")
        attachments = [to_attachment(f.attachment, f.role) for f in request.files]
        problem = problem or first_problem(
            [(a, f.option, f.allowed) for a, f in zip(attachments, request.files, strict=True)],
            self.options.max_attachment_bytes,
        )
        if problem is not None:
            await _acknowledge(
                interaction,
                interaction.response.send_message(self._problem_text(problem, language), ephemeral=True),
            )
            return
        await _acknowledge(interaction, interaction.response.defer(thinking=True))
        self.origins.add_interaction(interaction, owns_original=True)
        model_id = request.model
        if model_id and request.task_type is not None:
            leaves = await self._leaves(request.task_type)
            chosen = _match_model(leaves, model_id)
            if leaves and chosen is None:
                await self._refuse_after_defer(
                    interaction,
                    self._text(
                        "discord.error.unknown_model",
                        language,
                        model=model_id,
                        suggestions=", ".join(_unique_names(leaves)[:UNKNOWN_MODEL_SUGGESTIONS]),
                    ),
                )
                return
            model_id = chosen.model_id if chosen is not None else model_id
        overrides = RequestOverrides(
            media_type=request.media_type,
            task_type=request.task_type,
            model_id=model_id,
            params=dict(request.params),
        )
        await self.service.handle_message(
            conversation_from_interaction(interaction), clean_text(request.prompt), attachments, overrides
        )

    async def _refuse_after_defer(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Replace the public "thinking…" with a note only the user sees."""
        await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True)

    async def _leaves(self, task_type: TaskType) -> Sequence[ProductLeaf]:
        try:
            return await self.service.models_for(task_type)
        except Exception:  # the product list is a convenience here; the service reports real failures
            _log.warning("model list unavailable for %s", task_type, exc_info=True)
            return ()

    async def suggest_models(
        self, interaction: discord.Interaction[Any], task_type: TaskType, current: str
    ) -> list[app_commands.Choice[str]]:
        language = language_of(interaction.locale)
        try:
            # Autocomplete cannot be deferred: answer within Discord's 3 s even if the list is slow.
            async with asyncio.timeout(self.options.autocomplete_budget_s):
                leaves = await self._leaves(task_type)
        except TimeoutError:
            return []
        typed = current.strip().lower()
        matching = [leaf for leaf in leaves if typed in leaf.name.lower() or typed in leaf.model_id.lower()]
        choices: list[app_commands.Choice[str]] = []
        seen: set[str] = set()
        for leaf in matching or list(leaves):  # nothing matches: offer the whole list as suggestions
            if leaf.model_id in seen or len(leaf.model_id) > 100:
                continue
            seen.add(leaf.model_id)
            label = self._text(
                "discord.autocomplete.points", language, name=leaf.name, points=leaf.points_range[0]
            )
            choices.append(app_commands.Choice(name=label[:100], value=leaf.model_id))
            if len(choices) == AUTOCOMPLETE_LIMIT:
                break
        return choices

    async def show_help(self, interaction: discord.Interaction[Any]) -> None:
        text = self.service.help_text(language_of(interaction.locale))
        await _acknowledge(interaction, interaction.response.send_message(text[:2000], ephemeral=True))

    async def show_prefs(self, interaction: discord.Interaction[Any]) -> None:
        await _acknowledge(interaction, interaction.response.defer(ephemeral=True, thinking=True))
        text = await self.service.describe_preferences(
            Platform.DISCORD, str(interaction.user.id), language_of(interaction.locale)
        )
        await interaction.edit_original_response(content=text[:2000])

    async def clear_prefs(self, interaction: discord.Interaction[Any]) -> None:
        await _acknowledge(interaction, interaction.response.defer(ephemeral=True, thinking=True))
        text = await self.service.clear_preferences(
            Platform.DISCORD, str(interaction.user.id), language_of(interaction.locale)
        )
        await interaction.edit_original_response(content=text[:2000])

    async def set_pref(self, interaction: discord.Interaction[Any], media: MediaType, model: str) -> None:
        # The service saves preferences from what users say, so /prefs set speaks the same sentence,
        # with a model id checked against the live list (an unrecognised name could read as a prompt).
        await _acknowledge(interaction, interaction.response.defer(ephemeral=True, thinking=True))
        language = language_of(interaction.locale)
        leaves = await self._leaves(TEXT_TASK[media])
        chosen = _match_model(leaves, model)
        if chosen is None:
            names = ", ".join(_unique_names(leaves)[:UNKNOWN_MODEL_SUGGESTIONS])
            text = self._text("discord.error.unknown_model", language, model=model, suggestions=names or "-")
            await interaction.edit_original_response(content=text)
            return
        self.origins.add_interaction(interaction, owns_original=True)
        phrase = self._text("discord.prefs.set_phrase", language, model=chosen.model_id)
        await self.service.handle_message(
            conversation_from_interaction(interaction), phrase, (), RequestOverrides(media_type=media)
        )

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        _log.error("slash command failed", exc_info=error)
        prompt = getattr(interaction.namespace, "prompt", None)
        text = internal_error(self.messages, reply_language(prompt if isinstance(prompt, str) else "",
                                                            self._user_language(interaction)))
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=text, view=None)
            else:
                await _acknowledge(interaction, interaction.response.send_message(text, ephemeral=True))
        except discord.HTTPException:
            _log.warning("could not tell the user about the failure")

    # ------------------------------------------------------------------ buttons
    async def on_action(self, interaction: discord.Interaction[Any], job_id: str, action: ActionKind) -> None:
        await _acknowledge(interaction, interaction.response.defer(ephemeral=True, thinking=True))
        self.origins.add_interaction(interaction, owns_original=False)
        try:
            reply = await self.service.handle_action(
                conversation_from_interaction(interaction), job_id, action
            )
            text = reply.text
        except Exception:
            _log.exception("button action %s failed", action.value)
            text = internal_error(self.messages, self._user_language(interaction))
        await interaction.edit_original_response(content=text[:2000])

    # ------------------------------------------------------------------ @mentions and DMs
    async def on_message(self, message: discord.Message) -> None:
        if not addressed_to_bot(message, self.user):
            return
        assert self.user is not None
        language = self._message_language(message, strip_mentions(message.content, self.user.id))
        attachments = [to_attachment(a) for a in message.attachments]
        problem = first_problem(
            [(a, a.name, ANY_MEDIA) for a in attachments], self.options.max_attachment_bytes
        )
        if problem is not None:
            await message.reply(self._problem_text(problem, language), mention_author=False)
            return
        self.origins.add_message(message)
        try:
            await self.service.handle_message(
                conversation_from_message(message),
                clean_text(strip_mentions(message.content, self.user.id)),
                attachments,
                None,
            )
        except Exception:
            _log.exception("a mention/DM request failed")
            await message.reply(internal_error(self.messages, language), mention_author=False)

    def _message_language(self, message: discord.Message, text: str) -> Language:
        """The message's own language; when its text cannot tell (no letters), the guild's default
        (messages carry no user locale), then the bot's."""
        guild_default = (language_of(message.guild.preferred_locale, self.options.default_language)
                         if message.guild is not None else self.options.default_language)
        return reply_language(text, guild_default)

    def _user_language(self, interaction: discord.Interaction[Any]) -> Language:
        """For an interaction without words to go by: the user's locale, else the guild's, else the bot's."""
        fallback = language_of(interaction.guild_locale, self.options.default_language)
        return language_of(interaction.locale, fallback) if interaction.locale else fallback


async def _acknowledge(interaction: discord.Interaction[Any], response: Awaitable[object]) -> None:
    """Send the first response. discord.py 2.7 asks for the callback's JSON body (``with_response``)
    and fails to parse an empty 204 answer, which some proxies and test doubles give; the response was
    delivered all the same, so that failure is ignored."""
    try:
        await response
    except (TypeError, KeyError, AttributeError):
        if not interaction.response.is_done():
            raise
        _log.debug("interaction callback answered without a body")


def _match_model(leaves: Sequence[ProductLeaf], typed: str) -> ProductLeaf | None:
    wanted = typed.strip().lower()
    for leaf in leaves:
        if wanted in (leaf.model_id.lower(), leaf.name.lower(), leaf.version_id.lower()):
            return leaf
    return None


def _unique_names(leaves: Sequence[ProductLeaf]) -> list[str]:
    return list(dict.fromkeys(leaf.name for leaf in leaves))
