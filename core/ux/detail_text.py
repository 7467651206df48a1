"""The specific line an IMA client error can add under the generic failure reason: which UI value
was not offered (and the valid options), which upload limit was hit, which models exist."""

from __future__ import annotations

from string import Formatter

from core.errors import ErrorKind, ImabotError, InputError
from core.messages import Messages
from core.types import Language


def ima_error_detail(messages: Messages, exc: ImabotError, language: Language) -> str | None:
    """The ``ima.*`` catalog line for ``exc``, or None when it has nothing specific to add."""
    if exc.kind is ErrorKind.UNKNOWN_MODEL and exc.params.get("available"):
        key = "ima.unknown_model"
    elif isinstance(exc, InputError) and isinstance(exc.code, str):
        key = f"ima.input.{exc.code}"
    else:
        return None
    if not messages.has(key):
        return None
    template = messages.text(key, language)
    needed = {name for _, name, _, _ in Formatter().parse(template) if name}
    if not needed <= exc.params.keys():
        return None  # the raiser did not fill every placeholder: the generic reason is enough
    return template.format_map(exc.params)
