"""Text hygiene at intake: the one function every platform applies to what a user typed (and to file
names) before anything parses, stores or echoes it.

Chat platforms hand over whatever the client sent: unpaired UTF-16 surrogates (JSON ``"\\ud800"``), NUL
and other control characters, decomposed accents, megabytes of text. Unpaired surrogates cannot be
encoded as UTF-8, so storing such text used to crash intake; control characters corrupt logs and
terminals. Newlines and tabs are kept (they carry meaning in prompts).
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_CHARS = 4_000  # Discord's longest message (Nitro); Feishu texts beyond this are not prompts
MAX_NAME_CHARS = 200
_UNPAIRED_SURROGATES = re.compile("[\ud800-\udfff]")
_KEPT_CONTROLS = frozenset("\n\t")


def clean_text(text: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """NFC-normalised ``text`` without unpaired surrogates or control characters (newline and tab
    kept; ``\\r\\n`` and ``\\r`` become ``\\n``), cut to ``max_chars`` characters."""
    if not text:
        return ""
    joined = _without_unpaired_surrogates(text) if _UNPAIRED_SURROGATES.search(text) else text
    joined = joined.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in joined if ch in _KEPT_CONTROLS or unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", kept)[:max_chars]


def clean_name(name: str) -> str:
    """A file name as shown back to users: clean, on one line, at most ``MAX_NAME_CHARS``."""
    return " ".join(clean_text(name, max_chars=MAX_NAME_CHARS * 2).split())[:MAX_NAME_CHARS]


def _without_unpaired_surrogates(text: str) -> str:
    """A high+low pair that arrived as two code points (text decoded with "surrogatepass") becomes the
    character it encodes; a surrogate without its partner is dropped."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if "\ud800" <= ch <= "\udbff" and i + 1 < len(text) and "\udc00" <= text[i + 1] <= "\udfff":
            out.append(chr(0x10000 + ((ord(ch) - 0xD800) << 10) + (ord(text[i + 1]) - 0xDC00)))
            i += 2
            continue
        if not "\ud800" <= ch <= "\udfff":
            out.append(ch)
        i += 1
    return "".join(out)
