"""Attachment limits (data in ``core/data/media_limits.toml``) and the checks that apply them.

Every check returns *all* violations it finds so a user can fix everything in one go. Values and
ranges are formatted here in a language-neutral way (numbers and units); ``core.ux.preflight_text``
wraps them in the user's language.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from core.errors import ErrorKind, InputError
from core.media.ports import MediaInfo
from core.types import AttachmentKind, TaskType

_MB = 1024 * 1024
NO_VALUE = "-"  # a Violation whose rule needs no value or range ("the file can't be read")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule. ``file`` is the attachment's display name ("" for the whole bundle);
    ``what`` names the rule (``media.what.<what>``); ``fix`` is a message key suggesting a remedy."""

    file: str
    what: str
    value: str
    allowed: str
    fix: str


class MediaRejectedError(InputError):
    """Attachments were refused; ``violations`` says why, one entry per problem."""

    def __init__(self, violations: Sequence[Violation], detail: str = "") -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        summary = detail or "; ".join(f"{v.file or '*'}:{v.what}={v.value}" for v in self.violations)
        super().__init__(summary, params={"count": str(len(self.violations))})


class PreflightError(MediaRejectedError):
    """Attachments break a count, kind, size, format, dimension or duration limit. When every problem
    is a refused link (private/local address, not http(s)...), the reason says so, not "check the format"."""

    def __init__(self, violations: Sequence[Violation], detail: str = "") -> None:
        super().__init__(violations, detail)
        if self.violations and all(v.what.startswith("url_") for v in self.violations):
            self.kind = ErrorKind.UNSAFE_URL


class VerificationError(MediaRejectedError):
    """IMA's compliance check (assets/verify) did not pass for at least one asset."""

    kind = ErrorKind.VERIFY_FAILED


# ---------------------------------------------------------------- limits as data


@dataclass(frozen=True, slots=True)
class KindLimits:
    formats: frozenset[str]
    max_bytes: int
    min_side: int | None = None
    max_side: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None


@dataclass(frozen=True, slots=True)
class FamilyLimits:
    image: KindLimits
    video: KindLimits
    audio: KindLimits
    max_images: int
    max_videos: int
    max_audios: int
    max_total_bytes: int
    max_total_video_s: float | None = None
    max_total_audio_s: float | None = None

    def for_kind(self, kind: AttachmentKind) -> KindLimits | None:
        return {AttachmentKind.IMAGE: self.image, AttachmentKind.VIDEO: self.video,
                AttachmentKind.AUDIO: self.audio}.get(kind)

    def max_count(self, kind: AttachmentKind) -> int:
        return {AttachmentKind.IMAGE: self.max_images, AttachmentKind.VIDEO: self.max_videos,
                AttachmentKind.AUDIO: self.max_audios}.get(kind, 0)


@dataclass(frozen=True, slots=True)
class TaskRule:
    kinds: frozenset[AttachmentKind]
    min_images: int = 0
    max_images: int | None = None
    min_assets: int = 0


@dataclass(frozen=True, slots=True)
class MediaLimits:
    seedance_models: frozenset[str]
    tasks: Mapping[TaskType, TaskRule]
    seedance: FamilyLimits
    generic: FamilyLimits
    content_types: Mapping[str, str]

    @classmethod
    def load_default(cls, *, max_video_pixels: int | None = None) -> MediaLimits:
        raw = resources.files("core.data").joinpath("media_limits.toml").read_text(encoding="utf-8")
        limits = cls.from_mapping(tomllib.loads(raw))
        if max_video_pixels is not None:
            video = replace(limits.seedance.video, max_pixels=max_video_pixels)
            limits = replace(limits, seedance=replace(limits.seedance, video=video))
        return limits

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MediaLimits:
        tasks = {
            TaskType(name): TaskRule(
                kinds=frozenset(AttachmentKind(k) for k in rule["kinds"]),
                min_images=int(rule.get("min_images", 0)),
                max_images=rule.get("max_images"),
                min_assets=int(rule.get("min_assets", 0)),
            )
            for name, rule in data["tasks"].items()
        }
        return cls(
            seedance_models=frozenset(data["seedance_models"]),
            tasks=tasks,
            seedance=_family(data["seedance"]),
            generic=_family(data["generic"]),
            content_types=dict(data.get("content_types", {})),
        )

    def is_seedance(self, model_id: str) -> bool:
        return model_id in self.seedance_models


def _kind(data: Mapping[str, Any]) -> KindLimits:
    values = dict(data)
    values["formats"] = frozenset(values["formats"])
    return KindLimits(**values)


def _family(data: Mapping[str, Any]) -> FamilyLimits:
    scalars = {k: v for k, v in data.items() if k not in ("image", "video", "audio")}
    return FamilyLimits(image=_kind(data["image"]), video=_kind(data["video"]), audio=_kind(data["audio"]),
                        **scalars)


# ---------------------------------------------------------------- checks


@dataclass(frozen=True, slots=True)
class Item:
    """An attachment as the checks see it: a name, a kind and (when known) a size."""

    name: str
    kind: AttachmentKind
    size_bytes: int | None = None


def check_shape(task_type: TaskType, items: Sequence[Item], limits: MediaLimits,
                family: FamilyLimits) -> list[Violation]:
    """Kinds and counts a task type accepts, plus sizes already known. Run before any download
    (declared kinds) and again after probing (real kinds)."""
    rule = limits.tasks.get(task_type)
    if rule is None:
        return []
    out: list[Violation] = []
    allowed_kinds = "/".join(sorted(k.value for k in rule.kinds))
    for item in items:
        if item.kind is AttachmentKind.OTHER:
            out.append(Violation(item.name, "kind", "?", allowed_kinds, "media.fix.kind_unknown"))
        elif item.kind not in rule.kinds:
            fix = ("media.fix.video_audio_need_reference" if item.kind in (AttachmentKind.VIDEO,
                   AttachmentKind.AUDIO) else "media.fix.kind_not_allowed")
            out.append(Violation(item.name, "kind", item.kind.value, allowed_kinds, fix))
        else:
            kind_limits = family.for_kind(item.kind)
            if kind_limits and item.size_bytes is not None and item.size_bytes > kind_limits.max_bytes:
                out.append(_size_violation(item.name, item.size_bytes, kind_limits.max_bytes))
    counts = {kind: sum(1 for i in items if i.kind is kind) for kind in AttachmentKind}
    images = counts[AttachmentKind.IMAGE]
    if images < rule.min_images or (rule.max_images is not None and images > rule.max_images):
        allowed = (str(rule.min_images) if rule.max_images == rule.min_images
                   else f"≥ {rule.min_images}" if rule.max_images is None
                   else f"{rule.min_images}–{rule.max_images}")
        fix = f"media.fix.image_count.{task_type.value}"
        out.append(Violation("", "image_count", str(images), allowed, fix))
    if len(items) < rule.min_assets:
        out.append(Violation("", "asset_count", str(len(items)), f"≥ {rule.min_assets}",
                             "media.fix.asset_count"))
    for kind in (AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.AUDIO):
        if kind in rule.kinds and counts[kind] > family.max_count(kind):
            out.append(Violation("", f"{kind.value}_count", str(counts[kind]), f"≤ {family.max_count(kind)}",
                                 "media.fix.too_many"))
    known = [i.size_bytes for i in items if i.size_bytes is not None]
    if sum(known) > family.max_total_bytes:
        out.append(Violation("", "total_size", fmt_bytes(sum(known)), fmt_cap(family.max_total_bytes),
                             "media.fix.total_size"))
    return out


def check_media(files: Sequence[tuple[str, MediaInfo]], family: FamilyLimits) -> list[Violation]:
    """Per-file and bundle checks on probed media; a rule applies when the family's data sets it
    (Seedance sets dimensions, durations and fps; other models mostly formats and sizes)."""
    out: list[Violation] = []
    for name, info in files:
        limits = family.for_kind(info.kind)
        if limits is None:
            continue
        if info.format not in limits.formats:
            out.append(Violation(name, "format", info.format, "/".join(sorted(limits.formats)),
                                 f"media.fix.format.{info.kind.value}"))
        if info.size_bytes > limits.max_bytes:
            out.append(_size_violation(name, info.size_bytes, limits.max_bytes))
        out.extend(_check_geometry(name, info, limits))
        out.extend(_check_timing(name, info, limits))
    out.extend(_check_totals(files, family))
    return out


def _check_geometry(name: str, info: MediaInfo, limits: KindLimits) -> list[Violation]:
    if info.width is None or info.height is None or info.kind is AttachmentKind.AUDIO:
        return []
    out: list[Violation] = []
    w, h = info.width, info.height
    low, high = limits.min_side, limits.max_side
    if low is not None or high is not None:
        allowed = (f"{low}–{high} px" if low is not None and high is not None
                   else f"≥ {low} px" if low is not None else f"≤ {high} px")
        for what, side in (("width", w), ("height", h)):
            if (low is not None and side < low) or (high is not None and side > high):
                out.append(Violation(name, what, f"{side} px", allowed, "media.fix.resize"))
    if limits.min_aspect is not None and limits.max_aspect is not None and h > 0:
        aspect = w / h
        if not limits.min_aspect <= aspect <= limits.max_aspect:
            shown = _outside(aspect, limits.min_aspect, limits.max_aspect, 2)
            out.append(Violation(name, "aspect", f"{shown} ({w}×{h})",
                                 f"{limits.min_aspect}–{limits.max_aspect}", "media.fix.crop"))
    pixels = w * h
    if limits.min_pixels is not None and pixels < limits.min_pixels:
        out.append(Violation(name, "pixels", f"{pixels:,} ({w}×{h})", f"≥ {limits.min_pixels:,}",
                             "media.fix.upscale"))
    if limits.max_pixels is not None and pixels > limits.max_pixels:
        out.append(Violation(name, "pixels", f"{pixels:,} ({w}×{h})", f"≤ {limits.max_pixels:,}",
                             "media.fix.downscale_video"))
    return out


def _check_timing(name: str, info: MediaInfo, limits: KindLimits) -> list[Violation]:
    out: list[Violation] = []
    if limits.min_duration_s is not None and limits.max_duration_s is not None:
        duration = info.duration_s
        allowed = f"{limits.min_duration_s:g}–{limits.max_duration_s:g} s"
        if duration is None:
            out.append(Violation(name, "duration", "?", allowed, "media.fix.reencode"))
        elif not limits.min_duration_s <= duration <= limits.max_duration_s:
            fix = "media.fix.too_short" if duration < limits.min_duration_s else "media.fix.trim"
            shown = _outside(duration, limits.min_duration_s, limits.max_duration_s, 1)
            out.append(Violation(name, "duration", f"{shown} s", allowed, fix))
    if limits.min_fps is not None and limits.max_fps is not None and info.kind is AttachmentKind.VIDEO:
        fps = info.fps
        if fps is None or not limits.min_fps <= fps <= limits.max_fps:
            shown = "?" if fps is None else _outside(fps, limits.min_fps, limits.max_fps, 2)
            out.append(Violation(name, "fps", shown,
                                 f"{limits.min_fps:g}–{limits.max_fps:g}", "media.fix.fps"))
    return out


def _check_totals(files: Sequence[tuple[str, MediaInfo]], family: FamilyLimits) -> list[Violation]:
    out: list[Violation] = []
    for kind, cap, what in ((AttachmentKind.VIDEO, family.max_total_video_s, "total_video_duration"),
                            (AttachmentKind.AUDIO, family.max_total_audio_s, "total_audio_duration")):
        total = sum(i.duration_s or 0.0 for _, i in files if i.kind is kind)
        if cap is not None and total > cap:
            out.append(Violation("", what, f"{total:.1f} s", f"≤ {cap:g} s", "media.fix.total_duration"))
    size = sum(i.size_bytes for _, i in files)
    if size > family.max_total_bytes:
        out.append(Violation("", "total_size", fmt_bytes(size), fmt_cap(family.max_total_bytes),
                             "media.fix.total_size"))
    return out


def _outside(value: float, low: float, high: float, digits: int) -> str:
    """``value`` rounded, with more digits when rounding would make it look allowed
    (15.04 s against "2–15 s" shows as 15.04, not 15.0)."""
    for places in range(digits, 5):
        text = f"{value:.{places}f}"
        if not low <= float(text) <= high:
            return text
    return f"{value:.4f}"


def _size_violation(name: str, size: int, cap: int) -> Violation:
    return Violation(name, "size", fmt_bytes(size), fmt_cap(cap), "media.fix.compress")


def fmt_cap(cap: int) -> str:
    # Caps written as "N MB - 1" in the data mean "< N MB".
    return f"< {fmt_bytes(cap + 1)}" if (cap + 1) % _MB == 0 else f"≤ {fmt_bytes(cap)}"


def fmt_bytes(size: int) -> str:
    if size >= _MB:
        return f"{size // _MB} MB" if size % _MB == 0 else f"{size / _MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"
