"""The prompt moderation hook: one replaceable function deciding before anything is created."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

# (prompt) -> the blocked word found, or None when the prompt may go on. Replace it to plug in a
# moderation service; it must not do slow I/O (it runs at intake).
ModerationCheck = Callable[[str], str | None]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def blocked_words_check(words: Iterable[str]) -> ModerationCheck:
    """Case- and width-insensitive substring match against the operator's list."""
    folded = tuple(w for w in (_fold(word.strip()) for word in words) if w)

    def check(prompt: str) -> str | None:
        text = _fold(prompt)
        return next((word for word in folded if word in text), None)

    return check
