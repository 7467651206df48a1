"""The few setting defaults that light commands read without loading the settings model.

Building ``bot.settings.Settings`` imports pydantic and pydantic-settings, most of an ``imabot parse``
call's start-up; when no config file and no ``IMABOT_*`` variable is given, every setting is its
default, so ``parse`` takes these (``bot/settings.py`` declares its defaults with the same constants).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

ENV_PREFIX: Final = "IMABOT_"  # IMABOT_<SECTION>__<FIELD> overrides; IMABOT_CONFIG names the file
DEFAULT_MEDIA_TYPE: Final = "video"
DEFAULT_LANGUAGE: Final = "zh"


def settings_given(config: str | None, env: Mapping[str, str]) -> bool:
    """True when a config file or an ``IMABOT_*`` variable (any case, as pydantic-settings reads them)
    may change a setting: only then is there anything to load."""
    return config is not None or any(name.upper().startswith(ENV_PREFIX) for name in env)
