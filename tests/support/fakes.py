"""Small in-memory stand-ins for collaborators a test is not about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.model_catalog import ModelCatalog
from core.ports import Preference
from core.products import ProductLeaf
from core.request import GenerationRequest
from core.types import Attachment, TaskType


class MemoryPreferenceStore:
    def __init__(self) -> None:
        self._prefs: dict[tuple[str, str], dict[TaskType, Preference]] = {}

    async def get(self, platform: str, user_id: str, task_type: TaskType) -> Preference | None:
        return self._prefs.get((platform, user_id), {}).get(task_type)

    async def save(self, platform: str, user_id: str, task_type: TaskType, pref: Preference) -> None:
        self._prefs.setdefault((platform, user_id), {})[task_type] = pref

    async def clear(self, platform: str, user_id: str, task_type: TaskType | None = None) -> None:
        if task_type is None:
            self._prefs.pop((platform, user_id), None)
        else:
            self._prefs.get((platform, user_id), {}).pop(task_type, None)

    async def all_for(self, platform: str, user_id: str) -> Mapping[TaskType, Preference]:
        return dict(self._prefs.get((platform, user_id), {}))


@dataclass(frozen=True)
class SimpleSelection:
    leaf: ProductLeaf
    model_id: str
    source: str
    params: Mapping[str, Any]
    notices: tuple[str, ...] = ()
    mismatch_hint: str | None = None


def simple_select(request: GenerationRequest, leaves: Sequence[ProductLeaf], *, catalog: ModelCatalog,
                  preference: Preference | None, profile: Any) -> SimpleSelection:
    """Explicit model, else preference, else the catalog's fallback default, else the first leaf."""
    wanted = [(request.model_id, "explicit"), (preference.model_id if preference else None, "preference"),
              (catalog.fallback_default(request.task_type), "default")]
    for model_id, source in wanted:
        for leaf in leaves:
            if model_id and model_id in (leaf.model_id, leaf.version_id):
                return SimpleSelection(leaf, leaf.model_id, source, dict(request.params))
    return SimpleSelection(leaves[0], leaves[0].model_id, "default", dict(request.params))


class LocalFileFetcher:
    """``AttachmentFetcher`` for attachments whose ref is a local path."""

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        return Path(attachment.ref)
