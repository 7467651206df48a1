"""Spend commands on Discord (issue #12): ``/usage``, ``/imabot key`` (a modal, so the key never
appears in chat history), ``/imabot usage`` and the admin group ``/imabot-admin …``.

Discord applies default member permissions to top-level commands only, so the admin commands are
their own top-level group (hidden unless the member can Manage Server; server owners can grant it to
other roles in the integration settings) and every admin command is checked again at run time against
``[access] admins`` and the Manage Server permission.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord.inbound import conversation_from_interaction
from adapters.discord.language import language_of
from adapters.discord.translator import ls
from adapters.secrets.redaction import DISCORD_LOGGERS, install_key_shape_redaction
from core.messages import Messages
from core.platform import BotService
from core.spend.admin import AdminCommand, AdminInputError, AdminVerb, points, usage_period
from core.spend.ports import SpendDeskPort, spend_desk_of
from core.types import Language

_log = logging.getLogger(__name__)
KEY_MODAL_ID = "imabot:key_modal"
Choice = app_commands.Choice


class KeyModal(discord.ui.Modal):
    """One short text input; the submitted key goes straight to the service and is never echoed."""

    def __init__(
        self, title: str, label: str, on_key: Callable[[discord.Interaction[Any], str], Awaitable[None]]
    ) -> None:
        super().__init__(title=title[:45], custom_id=KEY_MODAL_ID, timeout=600)
        self.key: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=label[:45], custom_id="key", style=discord.TextStyle.short, min_length=8, max_length=200
        )
        self.add_item(self.key)
        self._on_key = on_key

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._on_key(interaction, self.key.value)


class SpendCommands:
    def __init__(self, service: BotService, messages: Messages) -> None:
        self._service = service
        self._m = messages
        install_key_shape_redaction(DISCORD_LOGGERS)  # raw gateway events carry the modal's text

    @property
    def desk(self) -> SpendDeskPort | None:
        return spend_desk_of(self._service)

    async def _reply(
        self, interaction: discord.Interaction[Any], work: Callable[[SpendDeskPort, Language], Awaitable[str]]
    ) -> None:
        """Defer (ephemeral), run ``work`` and show its text only to the user."""
        language = language_of(interaction.locale)
        await interaction.response.defer(ephemeral=True, thinking=True)
        desk = self.desk
        try:
            text = (
                await work(desk, language)
                if desk is not None
                else self._m.text("spend.discord.unavailable", language)
            )
        except Exception:
            _log.exception("spend command failed")
            text = self._m.text("discord.error.internal", language)
        await interaction.edit_original_response(content=text[:2000])

    async def usage(self, interaction: discord.Interaction[Any]) -> None:
        conversation = conversation_from_interaction(interaction)
        await self._reply(interaction, lambda desk, lang: desk.describe_usage(conversation, lang))

    async def key(self, interaction: discord.Interaction[Any], remove: bool) -> None:
        conversation = conversation_from_interaction(interaction)
        if remove:
            await self._reply(interaction, lambda desk, lang: desk.remove_key(conversation, lang))
            return
        language = language_of(interaction.locale)

        async def on_key(submitted: discord.Interaction[Any], key: str) -> None:
            await self._reply(submitted, lambda desk, lang: desk.link_key(conversation, key, lang))

        await interaction.response.send_modal(
            KeyModal(
                self._m.text("spend.key.modal_title", language),
                self._m.text("spend.key.modal_label", language),
                on_key,
            )
        )

    async def admin(self, interaction: discord.Interaction[Any], build: Callable[[], AdminCommand]) -> None:
        conversation = conversation_from_interaction(interaction)

        async def run(desk: SpendDeskPort, lang: Language) -> str:
            try:
                command = build()
            except AdminInputError:
                return self._m.text("spend.admin.bad", lang) + "\n" + self._m.text("spend.admin.help", lang)
            return await desk.admin(conversation, command, lang)

        await self._reply(interaction, run)


def build_spend_commands(
    m: Messages, handler: SpendCommands
) -> list[app_commands.Command[Any, Any, Any] | app_commands.Group]:
    def t(key: str) -> app_commands.locale_str:
        return ls(m, f"spend.discord.{key}")

    @app_commands.command(name=t("usage.name"), description=t("usage.desc"))
    async def usage(interaction: discord.Interaction[Any]) -> None:
        await handler.usage(interaction)

    imabot = app_commands.Group(name="imabot", description=t("imabot.desc"))

    @imabot.command(name=t("usage.name"), description=t("usage.desc"))
    async def imabot_usage(interaction: discord.Interaction[Any]) -> None:
        await handler.usage(interaction)

    @imabot.command(name=t("key.name"), description=t("key.desc"))
    @app_commands.describe(action=t("key.action"))
    @app_commands.choices(
        action=[Choice(name=t("key.link"), value="link"), Choice(name=t("key.remove"), value="remove")]
    )
    async def key(interaction: discord.Interaction[Any], action: Choice[str] | None = None) -> None:
        await handler.key(interaction, remove=action is not None and action.value == "remove")

    admin = app_commands.Group(
        name="imabot-admin",
        description=t("admin.desc"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @admin.command(name="usage", description=t("admin.usage"))
    @app_commands.describe(period=t("admin.period"))
    async def admin_usage(interaction: discord.Interaction[Any], period: str = "today") -> None:
        await handler.admin(interaction, lambda: AdminCommand(AdminVerb.USAGE, period=usage_period(period)))

    @admin.command(name="budget", description=t("admin.budget"))
    async def admin_budget(
        interaction: discord.Interaction[Any],
        user: discord.User,
        daily: str | None = None,
        monthly: str | None = None,
        clear: bool = False,
    ) -> None:
        await handler.admin(
            interaction,
            lambda: AdminCommand(
                AdminVerb.BUDGET,
                target=str(user.id),
                clear=clear or (daily is None and monthly is None),
                day_points=points(daily) if daily else None,
                month_points=points(monthly) if monthly else None,
            ),
        )

    @admin.command(name="pause", description=t("admin.pause"))
    async def admin_pause(
        interaction: discord.Interaction[Any], channel: discord.abc.GuildChannel | None = None
    ) -> None:
        target = str(channel.id) if channel is not None else None
        await handler.admin(interaction, lambda: AdminCommand(AdminVerb.PAUSE, target=target))

    @admin.command(name="resume", description=t("admin.resume"))
    async def admin_resume(
        interaction: discord.Interaction[Any], channel: discord.abc.GuildChannel | None = None
    ) -> None:
        target = str(channel.id) if channel is not None else None
        await handler.admin(interaction, lambda: AdminCommand(AdminVerb.RESUME, target=target))

    @admin.command(name="jobs", description=t("admin.jobs"))
    async def admin_jobs(interaction: discord.Interaction[Any]) -> None:
        await handler.admin(interaction, lambda: AdminCommand(AdminVerb.JOBS))

    @admin.command(name="cancel", description=t("admin.cancel"))
    async def admin_cancel(interaction: discord.Interaction[Any], job: str) -> None:
        await handler.admin(interaction, lambda: AdminCommand(AdminVerb.CANCEL, target=job.strip()))

    return [usage, imabot, admin]
