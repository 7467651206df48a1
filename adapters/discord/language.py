"""Which catalog language a Discord user gets."""

from __future__ import annotations

import discord

from core.types import Language


def language_of(locale: discord.Locale | str | None, default: Language = Language.EN) -> Language:
    if locale is None:
        return default
    value = locale.value if isinstance(locale, discord.Locale) else str(locale)
    return Language.ZH if value.lower().startswith("zh") else Language.EN
