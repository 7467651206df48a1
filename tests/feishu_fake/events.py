"""Builders for Feishu event payloads, shaped as delivered (schema 2.0)."""

from __future__ import annotations

import itertools
import json
from typing import Any

BOT_OPEN_ID = "ou_bot"
_counter = itertools.count(1)


def message_event(
    *,
    message_type: str = "text",
    content: dict[str, Any] | None = None,
    text: str | None = None,
    chat_type: str = "group",
    chat_id: str = "oc_group",
    user: str = "ou_alice",
    message_id: str | None = None,
    event_id: str | None = None,
    mention_bot: bool = True,
    other_mentions: tuple[tuple[str, str], ...] = (),
    sender_type: str = "user",
    app_id: str = "cli_test",
    parent_id: str = "",
) -> dict[str, Any]:
    """``parent_id``: the message this one replies to or quotes."""
    n = next(_counter)
    mentions: list[dict[str, Any]] = []
    prefix = ""
    if mention_bot:
        mentions.append(_mention("@_user_1", BOT_OPEN_ID, "IMA Bot"))
        prefix = "@_user_1 "
    for i, (open_id, name) in enumerate(other_mentions, start=2):
        mentions.append(_mention(f"@_user_{i}", open_id, name))
    if content is None:
        content = {"text": prefix + (text or "")}
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id or f"ev_{n:06d}",
            "token": "",
            "create_time": "1767225600000",
            "event_type": "im.message.receive_v1",
            "tenant_key": "tk",
            "app_id": app_id,
        },
        "event": {
            "sender": {"sender_id": {"open_id": user, "union_id": "on_" + user, "user_id": "u_" + user},
                       "sender_type": sender_type, "tenant_key": "tk"},
            "message": {
                "message_id": message_id or f"om_in_{n:06d}",
                "root_id": parent_id,
                "parent_id": parent_id,
                "create_time": "1767225600000",
                "chat_id": chat_id,
                "chat_type": chat_type,
                "message_type": message_type,
                "content": json.dumps(content, ensure_ascii=False),
                "mentions": mentions,
            },
        },
    }


def card_action_event(
    *, action: str, job_id: str, user: str = "ou_alice", message_id: str = "om_card",
    chat_id: str = "oc_group", event_id: str | None = None, app_id: str = "cli_test",
) -> dict[str, Any]:
    n = next(_counter)
    return {
        "schema": "2.0",
        "header": {"event_id": event_id or f"ev_card_{n:06d}", "token": "", "create_time": "1767225600000000",
                   "event_type": "card.action.trigger", "tenant_key": "tk", "app_id": app_id},
        "event": {
            "operator": {"open_id": user, "tenant_key": "tk"},
            "token": "c-token",
            "host": "im_message",
            "action": {"tag": "button", "value": {"action": f"imabot:{action}:{job_id}"}},
            "context": {"open_message_id": message_id, "open_chat_id": chat_id},
        },
    }


def _mention(key: str, open_id: str, name: str) -> dict[str, Any]:
    ids = {"open_id": open_id, "union_id": "", "user_id": ""}
    return {"key": key, "id": ids, "name": name, "tenant_key": "tk"}
