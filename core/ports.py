"""The seams between the domain and the edges. Each is a small Protocol that an adapter implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from core.catalog.products import ProductLeaf
from core.platform import AttachmentFetcher
from core.types import Attachment, AttachmentKind, MediaResult, Platform, TaskType

# ---------------------------------------------------------------- IMA


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ReferenceVideo:
    url: str
    duration: int
    width: int
    height: int
    cover: str
    fps: float | None = None


@dataclass(frozen=True, slots=True)
class ReferenceAudio:
    url: str
    duration: int


@dataclass(frozen=True, slots=True)
class ReferenceBundle:
    """Seedance multimodal inputs (facts §4.5): become top-level src_image / src_video / src_audio."""

    images: tuple[ReferenceImage, ...] = ()
    videos: tuple[ReferenceVideo, ...] = ()
    audios: tuple[ReferenceAudio, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """Everything needed to create one IMA task. ``params`` are the user's overrides only (form
    defaults and rule values are merged by the client, facts §3)."""

    task_type: TaskType
    model_id: str
    prompt: str
    version_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    input_urls: tuple[str, ...] = ()
    n: int = 1
    references: ReferenceBundle | None = None
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Quote:
    """The rule a spec resolves to before anything is sent."""

    leaf: ProductLeaf
    attribute_id: int
    credit: int
    inner_params: Mapping[str, Any]
    exact: bool  # False when the requested combination was not offered and a fallback rule won
    ignored_params: tuple[str, ...] = ()  # requested keys this model has no field for (dropped)


@dataclass(frozen=True, slots=True)
class CreatedTask:
    task_id: str
    quote: Quote  # the quote actually sent (after reflection)
    attempts: int = 1
    adjustments: tuple[str, ...] = ()  # e.g. "duration:10->5" applied by reflection


class TaskProgress(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    task_id: str
    progress: TaskProgress
    medias: tuple[MediaResult, ...] = ()
    failure_reason: str | None = None  # server text (error_msg / remark); never shown raw to users


@dataclass(frozen=True, slots=True)
class VerifyResult:
    status: str
    passed: bool
    error_code: str | None = None
    error_message: str | None = None


class CreateWatch(Protocol):
    """Told by the gateway where a create stands, so the caller can record it (a crash between two
    calls must leave the truth in the store): ``sending`` is awaited right before each create request
    really leaves (after any queueing and quoting; from then on a task may exist, so record that before
    returning, or raise to send nothing); ``refused`` after IMA refused that request or it never
    connected (no task exists: sending it again later is safe)."""

    async def sending(self) -> None: ...

    async def refused(self) -> None: ...


class ImaGateway(Protocol):
    async def list_products(self, task_type: TaskType) -> Sequence[ProductLeaf]: ...

    async def quote(self, spec: TaskSpec) -> Quote: ...

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask: ...

    async def get_task(self, task_id: str) -> TaskSnapshot: ...

    async def upload_file(self, path: Path, kind: AttachmentKind, content_type: str | None = None) -> str:
        """Upload a local file; returns the public ``fdl`` URL."""
        ...

    async def verify_asset(self, url: str, name: str) -> VerifyResult: ...



# ---------------------------------------------------------------- preferences


@dataclass(frozen=True, slots=True)
class Preference:
    model_id: str
    model_name: str
    credit: int | None
    last_used: float


class PreferenceStore(Protocol):
    async def get(self, platform: Platform, user_id: str, task_type: TaskType) -> Preference | None: ...

    async def save(self, platform: Platform, user_id: str, task_type: TaskType, pref: Preference) -> None: ...

    async def clear(self, platform: Platform, user_id: str, task_type: TaskType | None = None) -> None: ...

    async def all_for(self, platform: Platform, user_id: str) -> Mapping[TaskType, Preference]: ...


class DedupeStore(Protocol):
    async def first_seen(self, key: str, ttl_s: float) -> bool:
        """Record ``key``; True only the first time it is seen within ``ttl_s``."""
        ...


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A platform delivery recorded before it was acknowledged: its dedupe key and the raw event (JSON)."""

    key: str
    payload: str


class InboxStore(Protocol):
    """Deliveries written durably before the platform is told "received", processed by whoever holds them.

    ``accept`` is the one insert an intake makes before acknowledging: it claims the key (True only the
    first time within ``ttl_s``) and holds the item for ``hold_s``. ``finish`` marks it handled. An item
    whose holder died unfinished is handed out again by ``take_stale`` once its hold has run out, so a
    claimed key never blocks the message for good.
    """

    async def accept(self, key: str, payload: str, ttl_s: float, hold_s: float) -> bool: ...

    async def finish(self, key: str) -> None: ...

    async def take_stale(self, hold_s: float, limit: int) -> Sequence[InboxItem]: ...


# ---------------------------------------------------------------- input media


@dataclass(frozen=True, slots=True)
class PreparedInputs:
    """Attachments turned into what a create call needs."""

    input_urls: tuple[str, ...] = ()
    references: ReferenceBundle | None = None


class InputPreparer(Protocol):
    """Fetches, checks, probes, uploads (and for Seedance verifies) a request's attachments.

    Raises ``core.errors.InputError`` (or a subclass) before any upload when the media break a limit.
    ``on_stage`` is awaited with a stage name ("uploading", "verifying") so the UX can show it.
    """

    async def prepare(
        self,
        task_type: TaskType,
        model_id: str,
        attachments: Sequence[Attachment],
        fetcher: AttachmentFetcher,
        on_stage: Callable[[str], Awaitable[None]],
    ) -> PreparedInputs: ...
