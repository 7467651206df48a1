"""Intent understanding: a chat message (text + attachments) becomes a typed ``GenerationRequest``.

``parse`` is deterministic and never raises on any text. Modules: ``media`` (media and task type),
``models`` (aliases, tiers, unknown names), ``params`` (duration, aspect, resolution, voice/music),
``preference`` (save/clear statements), ``language``, ``prompt`` (cleanup) and ``text`` (normalization).
"""

from core.intent.parser import apply_overrides, parse

__all__ = ["apply_overrides", "parse"]
