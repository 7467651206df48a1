"""Texts every chat platform shows the same way, and the one language guess for platform replies."""

from __future__ import annotations

from core.intent.language import detect_language
from core.messages import Messages
from core.platform import ActionKind
from core.types import Language

CHAT_PACKAGE = "adapters.chat"
INTERNAL_ERROR_KEY = "chat.internal_error"


def chat_messages(base: Messages | None, *packages: str) -> Messages:
    """The catalog a platform adapter speaks from: core's, the chat kit's and the platform's own."""
    return (base or Messages.from_package()).including(CHAT_PACKAGE, *packages)


def button_label(messages: Messages, action: ActionKind, language: Language) -> str:
    return messages.text(f"chat.button.{action.value}", language)


def internal_error(messages: Messages, language: Language) -> str:
    """The reply when the bot itself failed to take a message in (no technical detail)."""
    return messages.text(INTERNAL_ERROR_KEY, language)


def reply_language(text: str, default: Language) -> Language:
    """The language to answer ``text`` in when the core has not said (the core's own guess)."""
    return detect_language(text, default)
