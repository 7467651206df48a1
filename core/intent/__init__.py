"""Intent understanding: a chat message (text + attachments) becomes an ``Understanding`` (what the user
wants: one of nine intents) and, for a generation, a typed ``GenerationRequest``.

``understand`` is the one entry every platform and ``imabot parse`` use; it classifies first (``classify``,
cue phrases in ``cues`` / ``core/data/intent_cues.toml``) and parses with ``parse``, which is deterministic
and never raises on any text. Modules: ``media`` (media and task type), ``models`` (aliases, tiers, unknown
names), ``params`` (duration, aspect, resolution, voice/music), ``preference`` (save/clear statements),
``language``, ``prompt`` (cleanup) and ``text`` (normalization).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.intent.classify import understand
    from core.intent.parser import apply_overrides, parse
    from core.intent.understanding import (
        Answer,
        CancelSelector,
        FollowUp,
        IntentKind,
        ModelsQuery,
        PrefsAction,
        Understanding,
    )

# The parser's modules compile their patterns at import (tens of ms); a module that needs only a light
# helper (``core.intent.hygiene``, ``core.intent.language``) must not pay for them, so the names below
# load their module on first use.
_HOMES = {
    "understand": "classify",
    "apply_overrides": "parser",
    "parse": "parser",
    **dict.fromkeys(("Answer", "CancelSelector", "FollowUp", "IntentKind", "ModelsQuery", "PrefsAction",
                     "Understanding"), "understanding"),
}

__all__ = [
    "Answer",
    "CancelSelector",
    "FollowUp",
    "IntentKind",
    "ModelsQuery",
    "PrefsAction",
    "Understanding",
    "apply_overrides",
    "parse",
    "understand",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
