"""zh-CN / zh-TW names and descriptions for slash commands, read from the message catalog.

Every translatable string is a ``locale_str`` whose default (English) text and ``key`` extra come from
``core/data/messages/discord.toml``; ``translate`` returns the catalog's zh text for Chinese locales.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from core.messages import Messages
from core.types import Language

CHINESE = frozenset({discord.Locale.chinese, discord.Locale.taiwan_chinese})


def ls(messages: Messages, key: str, **params: Any) -> app_commands.locale_str:
    return app_commands.locale_str(messages.text(key, Language.EN, **params), key=key, params=params)


class CatalogTranslator(app_commands.Translator):
    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if not key or locale not in CHINESE:
            return None
        return self._messages.text(key, Language.ZH, **(string.extras.get("params") or {}))
