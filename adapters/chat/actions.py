"""The one encoding of a button: ``imabot:<action>:<target>`` (a job id, or a question id).

Buttons outlive the process (a restart, another replica), so everything a click needs travels in it.
"""

from __future__ import annotations

import re

from core.platform import ActionKind

PREFIX = "imabot"
_ACTIONS = "|".join(a.value for a in ActionKind)
PATTERN = rf"{PREFIX}:(?P<action>{_ACTIONS}):(?P<target>[A-Za-z0-9_.\-]{{1,80}})"
_ENCODED = re.compile(PATTERN)


def encode_action(action: ActionKind, target_id: str) -> str:
    return f"{PREFIX}:{action.value}:{target_id}"


def decode_action(value: str) -> tuple[ActionKind, str] | None:
    """The action and its target, or None for anything this bot did not encode."""
    match = _ENCODED.fullmatch(value)
    if match is None:
        return None
    return ActionKind(match["action"]), match["target"]
