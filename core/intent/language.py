"""Reply language: Chinese when the message is mostly Chinese, English when mostly English."""

from __future__ import annotations

import re

from core.types import Language

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str, default: Language) -> Language:
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(text))
    if cjk == 0 and words == 0:
        return default
    return Language.ZH if cjk >= words else Language.EN
