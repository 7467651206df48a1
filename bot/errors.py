"""Set-up errors shared by every command (kept free of heavy imports: the CLI entry point catches it)."""

from __future__ import annotations


class SettingsError(ValueError):
    """Configuration or environment cannot be used; the message (one line) says which key, file or
    folder and what to do."""
