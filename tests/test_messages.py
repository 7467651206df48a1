from __future__ import annotations

import re

from core.messages import Messages
from core.types import Language

_FIELD = re.compile(r"\{(\w+)")


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    messages = Messages.from_package()
    for key in messages.all_keys():
        zh = messages.text(key, Language.ZH)
        en = messages.text(key, Language.EN)
        assert zh.strip() and en.strip(), key
        assert set(_FIELD.findall(zh)) == set(_FIELD.findall(en)), key


def test_no_user_message_leaks_technical_words() -> None:
    messages = Messages.from_package()
    banned = re.compile(r"attribute_id|Traceback|\bAPI\b|\.py\b|exception", re.IGNORECASE)
    for key in messages.all_keys():
        for lang in Language:
            assert not banned.search(messages.text(key, lang)), (key, lang)
