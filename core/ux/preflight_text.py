"""User text for refused attachments: one header plus one line per violation."""

from __future__ import annotations

from collections.abc import Sequence

from core.media.preflight import NO_VALUE, Violation
from core.messages import Messages
from core.types import Language


def render_violations(violations: Sequence[Violation], language: Language | str,
                      messages: Messages | None = None) -> str:
    catalog = messages or Messages.from_package()
    compliance_only = bool(violations) and all(v.what == "compliance" for v in violations)
    header = "media.header.compliance" if compliance_only else "media.header.preflight"
    lines = [catalog.text(header, language)]
    for v in violations:
        what = catalog.text(f"media.what.{v.what}", language)
        fix = catalog.text(v.fix, language)
        if v.value == NO_VALUE:
            lines.append(catalog.text("media.line.file_short", language, file=v.file, what=what, fix=fix))
        elif v.file:
            lines.append(catalog.text("media.line.file", language, file=v.file, what=what, value=v.value,
                                      allowed=v.allowed, fix=fix))
        else:
            lines.append(catalog.text("media.line.bundle", language, what=what, value=v.value,
                                      allowed=v.allowed, fix=fix))
    return "\n".join(lines)
