"""Turns a request's attachments into IMA inputs: check, fetch, probe, validate, upload, verify.

Nothing is uploaded or verified until every file has passed every limit; all problems are
reported together (``PreflightError``). Seedance models (facts §4.5, §5.4, §5.5) additionally get
full probing, cover frames, the src_image / src_video / src_audio bundle and compliance checks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from core.clock import Clock
from core.errors import ErrorKind, ImabotError, InputError
from core.media.ports import (
    AssetGateway,
    MediaInfo,
    MediaProbe,
    MediaTooLargeError,
    MediaUnreadableError,
    RemoteFetcher,
    UnsafeUrlError,
)
from core.media.preflight import (
    NO_VALUE,
    FamilyLimits,
    Item,
    MediaLimits,
    PreflightError,
    VerificationError,
    Violation,
    check_media,
    check_shape,
    fmt_bytes,
    fmt_cap,
)
from core.media.workdir import temp_workdir
from core.platform import AttachmentFetcher
from core.ports import (
    PreparedInputs,
    ReferenceAudio,
    ReferenceBundle,
    ReferenceImage,
    ReferenceVideo,
)
from core.types import Attachment, AttachmentKind, TaskType

log = logging.getLogger("imabot.inputs")

# Task types whose Seedance requests use the multimodal bundle and compliance verification (§5.5).
SEEDANCE_TASKS = frozenset({TaskType.IMAGE_TO_VIDEO, TaskType.FIRST_LAST_FRAME_TO_VIDEO,
                            TaskType.REFERENCE_IMAGE_TO_VIDEO})
PASSING_VERIFY_STATUSES = frozenset({"active", "success"})
# IMA is still reviewing: asked again after these pauses (about 2 minutes in all), then reported as
# "still in progress" (never as a refusal, and never with the raw status).
UNSETTLED_VERIFY_STATUSES = frozenset({"processing", "pending", "reviewing", "in_review", "auditing", ""})
VERIFY_SETTLE_DELAYS_S = (2.0, 3.0, 5.0, 10.0, 10.0, 15.0, 15.0, 20.0, 20.0, 20.0)


class _StillChecking:
    """A compliance check that had not settled when we stopped asking."""


_STILL_CHECKING = _StillChecking()
_ROLE_RANK = {"first_frame": 0, "last_frame": 2}


@dataclass(frozen=True, slots=True)
class _Fetched:
    source: Attachment
    name: str
    path: Path
    info: MediaInfo


def is_remote_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def display_name(attachment: Attachment) -> str:
    """A name safe to show and log: for URLs only the host and last path segment, never
    credentials or query strings (which may be signatures)."""
    raw = attachment.name or attachment.ref
    if "://" not in raw:
        return raw
    parts = urlsplit(raw)
    leaf = PurePosixPath(parts.path).name
    host = parts.hostname or ""
    if host and leaf:
        return f"{host}/{leaf}"
    return host or leaf or "?"


class AttachmentPreparer:
    """``core.ports.InputPreparer`` for every request with attachments."""

    def __init__(self, gateway: AssetGateway, probe: MediaProbe, remote: RemoteFetcher, limits: MediaLimits,
                 *, temp_dir: Path, verify_concurrency: int = 3, fetch_concurrency: int = 4,
                 clock: Clock | None = None) -> None:
        """``clock`` paces re-asking a compliance check that is still in progress; without one (test
        doubles that answer at once) it is asked again without pausing."""
        self._gateway = gateway
        self._clock = clock
        self._probe = probe
        self._remote = remote
        self._limits = limits
        self._temp_dir = temp_dir
        self._verify_slots = max(1, verify_concurrency)
        self._fetch_slots = max(1, fetch_concurrency)

    async def prepare(self, task_type: TaskType, model_id: str, attachments: Sequence[Attachment],
                      fetcher: AttachmentFetcher,
                      on_stage: Callable[[str], Awaitable[None]]) -> PreparedInputs:
        try:
            return await self._prepare(task_type, model_id, attachments, fetcher, on_stage)
        except (PreflightError, VerificationError) as exc:
            # Display names only (never URLs with queries or credentials).
            log.info("attachments refused (%s, %s): %s", task_type.value, model_id, exc.detail)
            raise

    async def _prepare(self, task_type: TaskType, model_id: str, attachments: Sequence[Attachment],
                       fetcher: AttachmentFetcher,
                       on_stage: Callable[[str], Awaitable[None]]) -> PreparedInputs:
        if task_type not in self._limits.tasks or not attachments:
            return PreparedInputs()
        ordered = _in_role_order(task_type, attachments)
        seedance = self._limits.is_seedance(model_id) and task_type in SEEDANCE_TASKS
        family = self._family(task_type, seedance, [a.kind for a in ordered])
        if all(a.kind is not AttachmentKind.OTHER for a in ordered):
            # Refuse wrong counts and declared sizes before downloading anything; attachments of
            # unknown kind (e.g. extension-less URLs) are counted after probing instead.
            declared = [Item(display_name(a), a.kind, a.size) for a in ordered]
            violations = check_shape(task_type, declared, self._limits, family)
            if violations:
                raise PreflightError(violations)
        async with temp_workdir(self._temp_dir, "imabot-media-") as workdir:
            fetched, violations = await self._fetch_and_probe(ordered, fetcher, workdir, family)
            family = self._family(task_type, seedance, [f.info.kind for f in fetched])
            multimodal = family is self._limits.seedance
            if not violations:  # with files missing, counts would only repeat the same problem
                probed = [Item(f.name, f.info.kind, f.info.size_bytes) for f in fetched]
                violations = check_shape(task_type, probed, self._limits, family)
            violations += check_media([(f.name, f.info) for f in fetched], family)
            if violations:
                raise PreflightError(violations)
            covers = await self._covers(fetched, workdir) if multimodal else {}
            urls, cover_urls = await self._upload(fetched, covers, on_stage)
            if seedance:
                await self._verify(fetched, urls, on_stage)
            bundle = _bundle(fetched, urls, cover_urls) if multimodal else None
            return PreparedInputs(input_urls=tuple(urls), references=bundle)

    def _family(self, task_type: TaskType, seedance: bool, kinds: Sequence[AttachmentKind]) -> FamilyLimits:
        # Any model's reference task with video/audio goes through the Seedance bundle rules (§4.5).
        av_reference = task_type is TaskType.REFERENCE_IMAGE_TO_VIDEO and any(
            k in (AttachmentKind.VIDEO, AttachmentKind.AUDIO) for k in kinds)
        return self._limits.seedance if seedance or av_reference else self._limits.generic

    # ------------------------------------------------------------ fetch + probe

    async def _fetch_and_probe(self, ordered: Sequence[Attachment], fetcher: AttachmentFetcher, workdir: Path,
                               family: FamilyLimits) -> tuple[list[_Fetched], list[Violation]]:
        slots = asyncio.Semaphore(self._fetch_slots)

        async def bounded(index: int, attachment: Attachment) -> _Fetched | Violation:
            async with slots:
                return await self._one(index, attachment, fetcher, workdir, family)

        results = await asyncio.gather(*(bounded(i, a) for i, a in enumerate(ordered)))
        return ([r for r in results if isinstance(r, _Fetched)],
                [r for r in results if isinstance(r, Violation)])

    async def _one(self, index: int, attachment: Attachment, fetcher: AttachmentFetcher, workdir: Path,
                   family: FamilyLimits) -> _Fetched | Violation:
        name = display_name(attachment)
        kind_limits = family.for_kind(attachment.kind)
        cap = kind_limits.max_bytes if kind_limits else max(
            family.image.max_bytes, family.video.max_bytes, family.audio.max_bytes)
        slot = workdir / str(index)
        try:
            await asyncio.to_thread(slot.mkdir)
            if is_remote_url(attachment.ref):
                path = await self._remote.fetch(attachment.ref, slot, cap)
            else:
                path = await fetcher.fetch(attachment, slot, cap)
            size = (await asyncio.to_thread(path.stat)).st_size
            if size > cap:
                return Violation(name, "size", fmt_bytes(size), fmt_cap(cap), "media.fix.compress")
            info = await self._probe.probe(path)
        except UnsafeUrlError as exc:
            # The display name already shows the host; the rule itself is the message.
            return Violation(name, f"url_{exc.reason}", NO_VALUE, NO_VALUE, "media.fix.public_url")
        except MediaTooLargeError as exc:
            value = fmt_bytes(exc.size_bytes) if exc.size_bytes else f"> {fmt_bytes(exc.limit_bytes)}"
            return Violation(name, "size", value, fmt_cap(exc.limit_bytes), "media.fix.compress")
        except MediaUnreadableError:
            return Violation(name, "unreadable", NO_VALUE, NO_VALUE, "media.fix.unreadable")
        except (ImabotError, OSError):
            return Violation(name, "download", NO_VALUE, NO_VALUE, "media.fix.download")
        path = await asyncio.to_thread(_into_slot, path, slot, info.format)
        return _Fetched(attachment, name, path, info)

    async def _covers(self, fetched: Sequence[_Fetched], workdir: Path) -> dict[int, Path]:
        async def cover(index: int) -> Path | Violation:
            try:
                return await self._probe.extract_cover(fetched[index].path, workdir / f"cover-{index}.jpg")
            except MediaUnreadableError:
                return Violation(fetched[index].name, "cover", NO_VALUE, NO_VALUE, "media.fix.reencode")

        videos = [i for i, f in enumerate(fetched) if f.info.kind is AttachmentKind.VIDEO]
        results = await asyncio.gather(*(cover(i) for i in videos))
        failed = [r for r in results if isinstance(r, Violation)]
        if failed:
            raise PreflightError(failed)
        return {i: r for i, r in zip(videos, results, strict=True) if isinstance(r, Path)}

    # ------------------------------------------------------------ upload + verify

    async def _upload(self, fetched: Sequence[_Fetched], covers: dict[int, Path],
                      on_stage: Callable[[str], Awaitable[None]]) -> tuple[list[str], dict[int, str]]:
        needs_upload = [i for i, f in enumerate(fetched) if not _keep_remote(f.source.ref)]
        if needs_upload or covers:
            await on_stage("uploading")
        urls = [f.source.ref for f in fetched]
        for i in needs_upload:
            f = fetched[i]
            content_type = self._limits.content_types.get(f.info.format)
            urls[i] = await self._gateway.upload_file(f.path, f.info.kind, content_type)
        cover_urls = {i: await self._gateway.upload_file(path, AttachmentKind.IMAGE, "image/jpeg")
                      for i, path in covers.items()}
        return urls, cover_urls

    async def _verify(self, fetched: Sequence[_Fetched], urls: Sequence[str],
                      on_stage: Callable[[str], Awaitable[None]]) -> None:
        await on_stage("verifying")
        slots = asyncio.Semaphore(self._verify_slots)

        async def one(f: _Fetched, url: str) -> Violation | _StillChecking | None:
            name = PurePosixPath(f.name).stem or f.name
            for pause in (*VERIFY_SETTLE_DELAYS_S, None):
                async with slots:
                    result = await self._gateway.verify_asset(url, name)
                status = (result.status or "").strip().lower()
                if result.passed and status in PASSING_VERIFY_STATUSES:
                    return None
                if status not in UNSETTLED_VERIFY_STATUSES or result.error_code:
                    return Violation(f.name, "compliance", status or "?", "active", "media.fix.compliance")
                if pause is not None and self._clock is not None:
                    await self._clock.sleep(pause)
            return _STILL_CHECKING

        outcomes = await asyncio.gather(*(one(f, u) for f, u in zip(fetched, urls, strict=True)))
        failed = [v for v in outcomes if isinstance(v, Violation)]
        if failed:
            raise VerificationError(failed)
        if _STILL_CHECKING in outcomes:
            raise InputError("compliance check still in progress", kind=ErrorKind.VERIFY_PENDING)


def _in_role_order(task_type: TaskType, attachments: Sequence[Attachment]) -> list[Attachment]:
    if task_type is not TaskType.FIRST_LAST_FRAME_TO_VIDEO:
        return list(attachments)
    return sorted(attachments, key=lambda a: _ROLE_RANK.get(a.role or "", 1))


def _keep_remote(ref: str) -> bool:
    # A public URL without a query string is passed on as is; one with a query string may be a
    # signed, expiring link (e.g. a chat CDN), so the fetched copy is uploaded instead.
    return is_remote_url(ref) and not urlsplit(ref).query


def _bundle(fetched: Sequence[_Fetched], urls: Sequence[str], covers: dict[int, str]) -> ReferenceBundle:
    images: list[ReferenceImage] = []
    videos: list[ReferenceVideo] = []
    audios: list[ReferenceAudio] = []
    for i, (f, url) in enumerate(zip(fetched, urls, strict=True)):
        info = f.info
        if info.kind is AttachmentKind.IMAGE:
            images.append(ReferenceImage(url=url, width=info.width or 0, height=info.height or 0))
        elif info.kind is AttachmentKind.VIDEO:
            videos.append(ReferenceVideo(url=url, duration=int(info.duration_s or 0), width=info.width or 0,
                                         height=info.height or 0, cover=covers.get(i, ""), fps=info.fps))
        elif info.kind is AttachmentKind.AUDIO:
            audios.append(ReferenceAudio(url=url, duration=int(info.duration_s or 0)))
    return ReferenceBundle(images=tuple(images), videos=tuple(videos), audios=tuple(audios))


def _into_slot(path: Path, slot: Path, fmt: str) -> Path:
    # Uploads derive the file suffix from the name: give every file the suffix of what it really
    # is. A fetcher that handed back a file elsewhere keeps its file; we work on a copy.
    target = slot / f"media.{fmt}"
    if path == target:
        return target
    if path.parent == slot:
        os.replace(path, target)
    else:
        shutil.copyfile(path, target)
    return target
