"""The lark-oapi ``EventDispatcherHandler`` whose callbacks hop from the SDK's thread to the main loop.

lark-oapi calls handlers synchronously (on the long-connection thread, or on the webhook's worker
thread) and acknowledges only when they return; Feishu redelivers anything not acknowledged within 3 s.
So a message handler only schedules work on the main loop and returns; with a durable intake it first
waits (at most ``accept_wait_s``) for the one insert that records the message, and raises when that
fails, so the SDK answers an error and Feishu redelivers instead of being told "received".
A card callback must carry its toast in the acknowledgement, so it waits for the answer, but never
longer than ``action_wait_s``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from typing import Any

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from adapters.feishu.router import FeishuRouter, toast

log = logging.getLogger(__name__)
ACTION_WAIT_S = 2.5
ACCEPT_WAIT_S = 2.5


def build_dispatcher(router: FeishuRouter, loop: asyncio.AbstractEventLoop, *, encrypt_key: str = "",
                     verification_token: str = "", action_wait_s: float = ACTION_WAIT_S,
                     accept_wait_s: float = ACCEPT_WAIT_S) -> Any:
    def on_message(data: Any) -> None:
        if not router.durable_intake:
            loop.call_soon_threadsafe(router.submit_message, _as_dict(data))
            return
        future = asyncio.run_coroutine_threadsafe(router.accept_message(_as_dict(data)), loop)
        try:
            future.result(timeout=accept_wait_s)
        except Exception:
            # Not recorded (or not known to be): no acknowledgement, so Feishu delivers it again.
            log.exception("feishu: message not recorded; leaving it unacknowledged")
            raise

    def on_card_action(data: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(router.handle_card_action(_as_dict(data)), loop)
        try:
            answer = future.result(timeout=action_wait_s)
        except concurrent.futures.TimeoutError:
            # The work goes on in the background; the user learns the outcome from the chat.
            answer = toast("info", router.text("feishu.action.pending"))
        except Exception:
            log.exception("feishu: card action bridge failed")
            answer = toast("error", router.text("feishu.action.failed"))
        return P2CardActionTriggerResponse(answer)

    def ignore(_: Any) -> None:
        return None

    return (lark.EventDispatcherHandler.builder(encrypt_key, verification_token)
            .register_p2_im_message_receive_v1(on_message)
            .register_p2_card_action_trigger(on_card_action)
            # Subscribed by many app templates; acknowledging them avoids pointless redeliveries.
            .register_p2_im_message_message_read_v1(ignore)
            .register_p2_im_chat_member_bot_added_v1(ignore)
            .build())


def _as_dict(data: Any) -> dict[str, Any]:
    """The SDK's typed event back to plain JSON, which the router parses defensively."""
    value = json.loads(lark.JSON.marshal(data))
    return value if isinstance(value, dict) else {}
