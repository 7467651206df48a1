"""``imabot parse TEXT``: show how the bot understands a message (for operators and tests)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.defaults import DEFAULT_LANGUAGE, DEFAULT_MEDIA_TYPE, settings_given
from bot.errors import SettingsError
from core.catalog.models import ModelCatalog
from core.intent import Understanding, understand
from core.request import GenerationRequest
from core.types import Attachment, AttachmentKind, Language, MediaType


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="*", help="the message text (words are joined with spaces)")
    parser.add_argument("--image", action="append", default=[], metavar="URL", help="an attached image")
    parser.add_argument("--video", action="append", default=[], metavar="URL", help="an attached video")
    parser.add_argument("--audio", action="append", default=[], metavar="URL", help="an attached audio file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--details",
        action="store_true",
        help="also show what the conversation layer gets (answer, follow-up, prefs, cancel, models query)",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True, slots=True)
class _Parsing:
    """What parsing reads from the settings."""

    eta_overrides: Mapping[str, tuple[int, int]]
    media: str
    language: str

    @classmethod
    def from_settings(cls, config: str | None) -> _Parsing:
        """The defaults unless a config file or ``IMABOT_*`` variables are given; only then is the settings
        model loaded (and validated whole, so a bad file is still refused)."""
        if not settings_given(config, os.environ):
            return cls({}, DEFAULT_MEDIA_TYPE, DEFAULT_LANGUAGE)
        from bot.settings import load_settings

        settings = load_settings(Path(config) if config else None)
        return cls(dict(settings.catalog.estimated_seconds), settings.bot.default_media_type,
                   settings.bot.default_language)


def run(args: argparse.Namespace) -> int:
    try:
        parsing = _Parsing.from_settings(getattr(args, "config", None))
    except SettingsError as exc:
        print(f"imabot parse: {exc}", file=sys.stderr)
        return 2
    catalog = ModelCatalog.load_default(parsing.eta_overrides)
    attachments = [
        *(_attachment(AttachmentKind.IMAGE, url) for url in args.image),
        *(_attachment(AttachmentKind.VIDEO, url) for url in args.video),
        *(_attachment(AttachmentKind.AUDIO, url) for url in args.audio),
    ]
    understanding = understand(
        " ".join(args.text),
        attachments,
        catalog=catalog,
        default_media=MediaType(parsing.media),
        default_language=Language(parsing.language),
    )
    result = understanding_json(understanding, details=args.details)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
            print(f"{key:>10}: {'-' if value is None else shown}")
    return 0


def understanding_json(understanding: Understanding, *, details: bool = False) -> dict[str, Any]:
    """``intent`` (issue #11) and every field issue #3 lists, from the parse whatever the intent; with
    ``details`` also ``understanding``: what the conversation layer gets besides."""
    u = understanding
    result: dict[str, Any] = {"intent": u.intent.value, **request_json(u.parsed)}
    if details:
        query = u.models_query
        result["understanding"] = {
            "answer": u.answer.value if u.answer else None,
            "follow_up": u.follow_up.value if u.follow_up else None,
            "prefs": u.prefs.value if u.prefs else None,
            "cancel": {"index": u.cancel.index, "all": u.cancel.all} if u.cancel else None,
            "models_query": (
                {
                    "media_type": query.media_type.value if query.media_type else None,
                    "model_ids": list(query.model_ids),
                    "topic": query.topic,
                }
                if query
                else None
            ),
            "model_id": u.model_id,
        }
    return result


def request_json(request: GenerationRequest) -> dict[str, Any]:
    """Exactly the fields issue #3 lists for ``imabot parse --json``."""
    return {
        "media_type": request.media_type.value,
        "task_type": request.task_type.value,
        "model_id": request.model_id,
        "tier": request.tier.value if request.tier else None,
        "params": dict(request.params),
        "prompt": request.prompt,
        "preference": request.preference.value if request.preference else None,
        "language": request.language.value,
        "notices": list(request.notices),
    }


def _attachment(kind: AttachmentKind, url: str) -> Attachment:
    name = Path(urlparse(url).path).name or kind.value
    return Attachment(kind=kind, name=name, ref=url)
