"""The message catalog: every user-facing string, in zh and en, lives in TOML files under
``core/data/messages/`` (one file per area: ``ux.toml``, ``errors.toml``, ``intent.toml``...). Texts only a
platform writes live beside its adapter (``<package>/messages.toml``) and are added with ``including``.

Each entry is a table keyed by a dotted id with one string per language::

    ["ux.ack"]
    zh = "收到！"
    en = "Got it!"

Placeholders use ``str.format`` syntax (``{model}``); ``text()`` fills them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from core.types import Language

ADAPTER_FILE = "messages.toml"


class MessageCatalogError(ValueError):
    pass


class Messages:
    def __init__(self, entries: Mapping[str, Mapping[str, str]]) -> None:
        self._entries = dict(entries)

    @classmethod
    def from_package(cls) -> Messages:
        return _load_packaged()

    def including(self, *packages: str) -> Messages:
        """These messages plus each package's own ``messages.toml`` (e.g. ``"adapters.discord"``)."""
        merged = dict(self._entries)
        for package in packages:
            for key, value in _load_adapter_file(package).items():
                if merged.setdefault(key, value) != value:
                    raise MessageCatalogError(f"duplicate message key {key!r} ({package})")
        return Messages(merged)

    def all_keys(self) -> frozenset[str]:
        return frozenset(self._entries)

    def has(self, key: str) -> bool:
        return key in self._entries

    def text(self, key: str, language: Language | str, /, **params: Any) -> str:
        try:
            template = self._entries[key][str(language)]
        except KeyError as exc:
            raise MessageCatalogError(f"no message {key!r} in {language!s}") from exc
        return template.format_map(params) if params else template


def _parse(name: str, raw: str) -> dict[str, dict[str, str]]:
    data = tomllib.loads(raw)
    out: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if not isinstance(value, dict) or set(value) != {"zh", "en"}:
            raise MessageCatalogError(f"{name}: {key!r} must have exactly 'zh' and 'en' strings")
        if not all(isinstance(v, str) for v in value.values()):
            raise MessageCatalogError(f"{name}: {key!r} values must be strings")
        out[key] = {"zh": value["zh"], "en": value["en"]}
    return out


@cache
def _load_adapter_file(package: str) -> dict[str, dict[str, str]]:
    entry = resources.files(package).joinpath(ADAPTER_FILE)
    return _parse(f"{package}/{ADAPTER_FILE}", entry.read_text(encoding="utf-8"))


@cache
def _load_packaged() -> Messages:
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files("core.data.messages").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for key, value in _parse(entry.name, entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise MessageCatalogError(f"duplicate message key {key!r} ({entry.name})")
            merged[key] = value
    return Messages(merged)
