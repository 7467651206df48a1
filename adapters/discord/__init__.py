"""Discord adapter. Its own texts are in ``messages.toml`` here (see ``adapters.chat.texts``)."""

MESSAGES_PACKAGE = "adapters.discord"
