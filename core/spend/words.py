"""Whole-message answers: yes / no to a pending confirmation and the "don't ask me again" choice
(word lists in ``core/data/spend_words.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

_TRIM = " \t\r\n.,!?;:~。，！？；：～…、\"'“”‘’"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    SKIP_CONFIRM = "skip_confirm"  # also a yes to what is pending
    ASK_AGAIN = "ask_again"


@dataclass(frozen=True, slots=True)
class AnswerWords:
    by_text: dict[str, Answer]

    def classify(self, text: str) -> Answer | None:
        return self.by_text.get(normalize(text))


def normalize(text: str) -> str:
    return " ".join(text.strip(_TRIM).casefold().replace("’", "'").split())


@cache
def answer_words() -> AnswerWords:
    raw = tomllib.loads(resources.files("core.data").joinpath("spend_words.toml").read_text(encoding="utf-8"))
    by_text: dict[str, Answer] = {}
    for answer in Answer:
        for word in raw[answer.value]:
            by_text[normalize(word)] = answer
    return AnswerWords(by_text)
