"""Intent understanding: a chat message (text + attachments) becomes an ``Understanding`` (what the user
wants: one of nine intents) and, for a generation, a typed ``GenerationRequest``.

``understand`` is the one entry every platform and ``imabot parse`` use; it classifies first (``classify``,
cue phrases in ``cues`` / ``core/data/intent_cues.toml``) and parses with ``parse``, which is deterministic
and never raises on any text. Modules: ``media`` (media and task type), ``models`` (aliases, tiers, unknown
names), ``params`` (duration, aspect, resolution, voice/music), ``preference`` (save/clear statements),
``language``, ``prompt`` (cleanup) and ``text`` (normalization).
"""

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
