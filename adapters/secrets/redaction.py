"""Keep users' IMA keys out of logs: platform SDKs log raw events at DEBUG (a Discord modal submission,
a Feishu DM), so their loggers get a filter that masks anything shaped like an IMA key."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.spend.keys import KEY_PATTERN, mask_key


class KeyShapeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left to logging's own error handling
            return True
        if KEY_PATTERN.search(message):
            record.msg = KEY_PATTERN.sub(lambda m: mask_key(m.group(0)), message)
            record.args = ()
        return True


def install_key_shape_redaction(logger_names: Iterable[str]) -> None:
    """Idempotently attach the filter to each named logger."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, KeyShapeFilter) for f in logger.filters):
            logger.addFilter(KeyShapeFilter())


DISCORD_LOGGERS = (
    "discord.gateway",
    "discord.client",
    "discord.http",
    "discord.webhook.async_",
    "discord.state",
    "discord.ui.modal",
    "discord.app_commands.tree",
)
FEISHU_LOGGERS = (
    "Lark",
    "lark_oapi",
    "adapters.feishu.router",
    "adapters.feishu.webhook",
    "adapters.feishu.long_connection",
)
