"""Discord formatting of the core's already-localized texts (never rewording them)."""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_CONTENT = 2000
_BARE_URL = re.compile(r"(?<![<(])(https?://[^\s<>]+)")


def suppress_embeds(text: str) -> str:
    """Wrap bare URLs in <...> so Discord shows a copyable link without a second preview."""
    return _BARE_URL.sub(r"<\1>", text)


def progress_bar(percent: int, width: int = 10) -> str:
    filled = max(0, min(width, percent * width // 100))
    return "▰" * filled + "▱" * (width - filled) + f" {percent}%"


def status_content(text: str, percent: int | None) -> str:
    body = suppress_embeds(text)
    if percent is not None and f"{percent}%" not in text:
        body = f"{body}\n{progress_bar(percent)}"
    return truncate(body)


def result_content(
    user_id: str | None,
    text: str,
    unfurl_urls: Sequence[str],
    link_urls: Sequence[str],
    note: str | None = None,
) -> str:
    """Mention, the bare URLs Discord should unfurl into a player, the text, then copyable links."""
    head = ([f"<@{user_id}>"] if user_id else []) + ([note] if note else []) + list(unfurl_urls)
    tail = [f"<{url}>" for url in link_urls if url not in text]
    fixed = len("\n".join(head + tail)) + 2
    parts = [*head, truncate(suppress_embeds(text), MAX_CONTENT - fixed), *tail]
    return "\n".join(p for p in parts if p)


def truncate(text: str, limit: int = MAX_CONTENT) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"
