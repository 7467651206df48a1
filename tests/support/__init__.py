"""Shared test fixtures and fakes (generic: reused by the console, Discord and Feishu tests)."""
