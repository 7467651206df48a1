"""The bundled model catalog (``core/data/models.toml``): friendly names, aliases, per-task model ids,
estimated times, polling cadence, fallback suggestions and tiers.

The live product list decides what is available and what it costs; this catalog only knows what the
seeds' tables say about each model. Lookups are pure and cheap; load once per process.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from core.catalog.products import ProductLeaf
from core.types import Language, MediaType, TaskType

STRIP_CHARS = frozenset(" \t\r\n-_.·・\u3000")  # ignored when comparing model names


def normalize_name(text: str) -> str:
    """The alias key: NFKC, lower-case, without spaces, hyphens, underscores and dots."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch not in STRIP_CHARS and not ch.isspace())


@dataclass(frozen=True, slots=True)
class ModelTiming:
    poll_interval_s: float
    progress_interval_s: float
    eta_s: tuple[int, int]
    max_wait_s: float


@dataclass(frozen=True, slots=True)
class ModelInfo:
    model_id: str
    name_en: str
    name_zh: str
    media_type: MediaType
    task_ids: Mapping[TaskType, str]
    aliases: tuple[str, ...]
    eta_s: tuple[int, int]
    poll_interval_s: float
    progress_interval_s: float
    alternatives: tuple[str, ...] = ()
    alternatives_by_task: Mapping[TaskType, tuple[str, ...]] = field(default_factory=dict)
    tiers: tuple[str, ...] = ()
    notes_en: str = ""
    notes_zh: str = ""  # a user-facing text: both languages or neither (checked on load)
    weak_aliases: tuple[str, ...] = ()
    fast_variant: str | None = None  # the same family's speed-priority model, if any

    def display_name(self, language: Language | str) -> str:
        return self.name_zh if str(language) == Language.ZH.value else self.name_en

    def notes(self, language: Language | str) -> str:
        """What the seeds say about this model, in the user's language ("" when nothing is known)."""
        return self.notes_zh if str(language) == Language.ZH.value else self.notes_en

    def supports(self, task_type: TaskType) -> bool:
        return task_type in self.task_ids

    def id_for(self, task_type: TaskType) -> str:
        """The model id to send for ``task_type`` (Wan: t2v -> wan2.6-t2v, i2v -> wan2.6-i2v)."""
        return self.task_ids.get(task_type, self.model_id)

    @property
    def all_ids(self) -> frozenset[str]:
        return frozenset({self.model_id, *self.task_ids.values()})


class CatalogError(ValueError):
    pass


class ModelCatalog:
    def __init__(
        self,
        models: Iterable[ModelInfo],
        *,
        task_defaults: Mapping[TaskType, str],
        tiers: Mapping[TaskType, Mapping[str, str]],
        any_alternatives: Mapping[TaskType, tuple[str, ...]],
        media_defaults: Mapping[MediaType, ModelTiming],
    ) -> None:
        self._models: tuple[ModelInfo, ...] = tuple(models)
        self._by_primary = {m.model_id: m for m in self._models}
        self._by_any_id: dict[str, ModelInfo] = {}
        for m in self._models:
            for mid in m.all_ids:
                self._by_any_id.setdefault(mid, m)
        self._by_any_id.update(self._by_primary)
        self._by_id_ci = {mid.casefold(): m for mid, m in self._by_any_id.items()}
        self._task_defaults = dict(task_defaults)
        self._tiers = {k: dict(v) for k, v in tiers.items()}
        self._any_alternatives = dict(any_alternatives)
        self._media_defaults = dict(media_defaults)
        strong: dict[str, str] = {}
        weak: dict[str, str] = {}
        for m in self._models:
            for alias in (m.model_id, m.name_en, m.name_zh, *m.aliases):
                strong.setdefault(normalize_name(alias), m.model_id)
        for m in self._models:  # per-task ids last: "viduq2-pro" names Vidu Q2 Pro, not Vidu Q2
            for alias in m.task_ids.values():
                strong.setdefault(normalize_name(alias), m.model_id)
            for alias in m.weak_aliases:
                weak.setdefault(normalize_name(alias), m.model_id)
        strong.pop("", None)
        self._strong_aliases = MappingProxyType(strong)
        self._weak_aliases = MappingProxyType({k: v for k, v in weak.items() if k and k not in strong})
        named = [(k, v, False) for k, v in strong.items()]
        named += [(k, v, True) for k, v in self._weak_aliases.items()]
        named.sort(key=lambda item: -len(item[0]))  # stable: strong before weak at equal length
        self._aliases_longest_first = tuple(named)

    # ------------------------------------------------------------ loading

    @classmethod
    def load_default(cls, estimated_overrides: Mapping[str, tuple[int, int]] | None = None) -> ModelCatalog:
        raw = resources.files("core.data").joinpath("models.toml").read_text(encoding="utf-8")
        return cls.from_toml(raw, estimated_overrides or {})

    @classmethod
    def from_toml(
        cls, raw: str, estimated_overrides: Mapping[str, tuple[int, int]] | None = None
    ) -> ModelCatalog:
        data = tomllib.loads(raw)
        overrides = {k: (int(v[0]), int(v[1])) for k, v in (estimated_overrides or {}).items()}
        models = [_model_from(entry, overrides) for entry in data.get("models", [])]
        task_defaults = {TaskType(k): str(v) for k, v in data.get("task_defaults", {}).items()}
        tiers = {
            TaskType(k): {str(t): str(m) for t, m in v.items()} for k, v in data.get("tiers", {}).items()
        }
        any_alts = {
            TaskType(k): tuple(str(x) for x in v) for k, v in data.get("any_alternatives", {}).items()
        }
        media_defaults = {
            MediaType(k): ModelTiming(
                poll_interval_s=float(v["poll_interval_s"]),
                progress_interval_s=float(v["progress_interval_s"]),
                eta_s=_range(v["eta_s"]),
                max_wait_s=float(v["max_wait_s"]),
            )
            for k, v in data.get("media_defaults", {}).items()
        }
        missing = [t for t in TaskType if t not in task_defaults]
        if missing:
            raise CatalogError(f"task_defaults missing {missing}")
        return cls(
            models,
            task_defaults=task_defaults,
            tiers=tiers,
            any_alternatives=any_alts,
            media_defaults=media_defaults,
        )

    # ------------------------------------------------------------ lookups

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return self._models

    def info(self, model_id: str) -> ModelInfo | None:
        """The entry for a primary or per-task id (``wan2.6-i2v`` -> Wan 2.6); case-insensitive."""
        return self._by_any_id.get(model_id) or self._by_id_ci.get(model_id.casefold())

    def display_name(self, model_id: str, language: Language | str) -> str:
        info = self.info(model_id)
        return info.display_name(language) if info else model_id

    def strong_aliases(self) -> Mapping[str, str]:
        """normalized alias -> primary model id (always a model name)."""
        return self._strong_aliases

    def weak_aliases(self) -> Mapping[str, str]:
        """normalized alias -> primary model id (a model name only next to a "use" cue)."""
        return self._weak_aliases

    def aliases_longest_first(self) -> tuple[tuple[str, str, bool], ...]:
        """(normalized alias, primary model id, weak) for every alias, longest first: a text is searched
        in this order so "可灵3" is found before "可灵" (computed once; every message is searched)."""
        return self._aliases_longest_first

    def resolve_alias(self, text: str, task_type: TaskType | None = None) -> str | None:
        """Whole-name alias lookup ("可灵", "Nano Banana Pro") -> the model id for the task."""
        key = normalize_name(text)
        primary = self._strong_aliases.get(key) or self._weak_aliases.get(key)
        if primary is None:
            return None
        info = self._by_primary[primary]
        return info.id_for(task_type) if task_type is not None else info.model_id

    def for_task(self, model_id: str, task_type: TaskType) -> str | None:
        """The id a model uses for ``task_type``, or None when the catalog says it does not offer it."""
        info = self.info(model_id)
        if info is None or not info.supports(task_type):
            return None
        return info.id_for(task_type)

    def fallback_default(self, task_type: TaskType) -> str:
        return self._task_defaults[task_type]

    def tier_model(self, task_type: TaskType, tier: str) -> str | None:
        return self._tiers.get(task_type, {}).get(tier)

    def alternatives_for(self, model_id: str, task_type: TaskType) -> tuple[str, ...]:
        """1-2 models to suggest when ``model_id`` failed for ``task_type`` (seeds' fallback tables)."""
        info = self.info(model_id)
        candidates: list[str] = []
        if info is not None:
            candidates.extend(info.alternatives_by_task.get(task_type, info.alternatives))
        candidates.extend(self._any_alternatives.get(task_type, ()))
        own = info.all_ids if info else frozenset({model_id})
        out: list[str] = []
        for cand in candidates:
            resolved = self.for_task(cand, task_type)
            if resolved is None or resolved in own or resolved in out:
                continue
            out.append(resolved)
            if len(out) == 2:
                break
        return tuple(out)

    def faster_than(
        self, model_id: str, task_type: TaskType, available: Collection[str] | None = None
    ) -> str | None:
        """A model with a shorter estimated time for the same task (the "Faster model" button)."""
        current = self.timing_for(model_id, task_type.media_type).eta_s[1]
        own = self.info(model_id)
        preferred = [*(own.alternatives if own else ()), self._tiers.get(task_type, {}).get("fast", "")]
        pool = self._candidates(task_type, available, exclude=own.all_ids if own else {model_id})
        faster = [(m, tid) for m, tid in pool if m.eta_s[1] < current]
        if not faster:
            return None
        for pref in preferred:
            for m, tid in faster:
                if pref in m.all_ids:
                    return tid
        return min(faster, key=lambda item: (item[0].eta_s[1], item[0].eta_s[0]))[1]

    def better_than(
        self, model_id: str, task_type: TaskType, available: Collection[str] | None = None
    ) -> str | None:
        """A higher-quality model for the same task (the "Better model" button)."""
        own = self.info(model_id)
        exclude = own.all_ids if own else frozenset({model_id})
        if own is not None and any(t in own.tiers for t in ("best",)):
            return None
        pool = {tid: m for m, tid in self._candidates(task_type, available, exclude=exclude)}
        for tier in ("best", "premium", "pro"):
            wanted = self.tier_model(task_type, tier)
            if wanted:
                tid = self.for_task(wanted, task_type)
                if tid in pool:
                    return tid
        for tid, m in pool.items():
            if "best" in m.tiers or "premium" in m.tiers:
                return tid
        return None

    def estimate(self, model_id: str, leaf: ProductLeaf,
                 overrides: Mapping[str, tuple[int, int]] | None = None) -> tuple[int, int]:
        """The time range users are told (chat and ``imabot models`` alike): the operator's override,
        else the live list's EET tag (what IMA reports today), else this catalog (the seeds' tables,
        often shorter than production)."""
        if overrides and model_id in overrides:
            return overrides[model_id]
        return leaf.estimated_seconds or self.timing_for(model_id, leaf.category.media_type).eta_s

    def timing_for(self, model_id: str | None, media_type: MediaType) -> ModelTiming:
        base = self._media_defaults.get(media_type) or ModelTiming(5, 15, (30, 300), 300)
        info = self.info(model_id) if model_id else None
        if info is None:
            return base
        return ModelTiming(
            poll_interval_s=info.poll_interval_s,
            progress_interval_s=info.progress_interval_s,
            eta_s=info.eta_s,
            max_wait_s=base.max_wait_s,
        )

    # ------------------------------------------------------------ helpers

    def _candidates(
        self, task_type: TaskType, available: Collection[str] | None, exclude: Collection[str]
    ) -> list[tuple[ModelInfo, str]]:
        out: list[tuple[ModelInfo, str]] = []
        for m in self._models:
            if not m.supports(task_type):
                continue
            tid = m.id_for(task_type)
            if tid in exclude or (available is not None and tid not in available):
                continue
            if any(tid == seen for _, seen in out):
                continue
            out.append((m, tid))
        return out


def _range(value: Any) -> tuple[int, int]:
    lo, hi = int(value[0]), int(value[1])
    if lo < 0 or hi < lo:
        raise CatalogError(f"bad time range {value!r}")
    return lo, hi


def _model_from(entry: Mapping[str, Any], overrides: Mapping[str, tuple[int, int]]) -> ModelInfo:
    model_id = str(entry["model_id"])
    task_ids = {TaskType(k): str(v) for k, v in entry.get("task_ids", {}).items()}
    overridden = [overrides[i] for i in (model_id, *task_ids.values()) if i in overrides]
    eta = overridden[0] if overridden else _range(entry["eta_s"])
    notes_en, notes_zh = str(entry.get("notes_en", "")), str(entry.get("notes_zh", ""))
    if bool(notes_en) != bool(notes_zh):
        raise CatalogError(f"{model_id}: notes_en and notes_zh go together (user-facing text)")
    by_task = {
        TaskType(k): tuple(str(x) for x in v) for k, v in entry.get("alternatives_by_task", {}).items()
    }
    return ModelInfo(
        model_id=model_id,
        name_en=str(entry["name_en"]),
        name_zh=str(entry["name_zh"]),
        media_type=MediaType(entry["media_type"]),
        task_ids=MappingProxyType(task_ids),
        aliases=tuple(str(a) for a in entry.get("aliases", ())),
        weak_aliases=tuple(str(a) for a in entry.get("weak_aliases", ())),
        eta_s=eta,
        poll_interval_s=float(entry["poll_interval_s"]),
        progress_interval_s=float(entry["progress_interval_s"]),
        alternatives=tuple(str(a) for a in entry.get("alternatives", ())),
        alternatives_by_task=MappingProxyType(by_task),
        tiers=tuple(str(t) for t in entry.get("tiers", ())),
        notes_en=notes_en,
        notes_zh=notes_zh,
        fast_variant=str(entry["fast_variant"]) if entry.get("fast_variant") else None,
    )
