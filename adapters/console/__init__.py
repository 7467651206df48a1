"""The terminal platform (``imabot demo`` / ``imabot generate``); its own texts: ``messages.toml``."""

MESSAGES_PACKAGE = "adapters.console"
