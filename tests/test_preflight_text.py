"""Refusal text: every rule the code can break has zh and en words, and lines name file, value,
allowed range and fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.media.ports import UnsafeUrlReason
from core.media.preflight import MediaLimits, Violation
from core.messages import Messages
from core.types import AttachmentKind
from core.ux.preflight_text import render_violations

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "core" / "media" / "preflight.py", ROOT / "core" / "media" / "inputs.py"]


def produced_keys() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    whats = set(re.findall(r'Violation\([^,]+, "([a-z_]+)"', text))
    whats |= {f"{k.value}_count" for k in (AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO)}
    whats |= {f"url_{v}" for k, v in vars(UnsafeUrlReason).items() if k.isupper()}
    whats |= {"width", "height", "total_video_duration", "total_audio_duration"}  # built from variables
    fixes = set(re.findall(r'"(media\.fix\.[a-z_.]+)"', text))
    fixes |= {f"media.fix.image_count.{t.value}" for t, rule in MediaLimits.load_default().tasks.items()
              if rule.min_images or rule.max_images}
    fixes |= {f"media.fix.format.{k}" for k in ("image", "video", "audio")}
    return {f"media.what.{w}" for w in whats} | {f for f in fixes if not f.endswith(".")}


def test_every_rule_and_fix_has_text() -> None:
    keys = produced_keys()
    assert len(keys) > 40
    missing = sorted(k for k in keys if not Messages.from_package().has(k))
    assert missing == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_lines_name_file_value_range_and_fix(language: str) -> None:
    text = render_violations([
        Violation("clip.mp4", "duration", "40.0 s", "2–15 s", "media.fix.trim"),
        Violation("", "image_count", "10", "≤ 9", "media.fix.too_many"),
        Violation("x.png", "download", "-", "-", "media.fix.download"),
    ], language)
    header, clip, count, download = text.splitlines()
    messages = Messages.from_package()
    assert header == messages.text("media.header.preflight", language)
    assert "clip.mp4" in clip and "40.0 s" in clip and "2–15 s" in clip
    assert clip.endswith(messages.text("media.fix.trim", language))
    assert "10" in count and "≤ 9" in count and messages.text("media.what.image_count", language) in count
    assert "x.png" in download and "-" not in download.replace("x.png", "")


def test_compliance_failures_get_their_own_header() -> None:
    failed = Violation("face.png", "compliance", "failed", "active", "media.fix.compliance")
    text = render_violations([failed], "zh")
    assert text.startswith("素材未通过 IMA 合规审核")
    assert "face.png" in text
