"""Choosing the model (product leaf) for a request, and what to remember about the user's choice.

Order (seeds 001/002/003): explicit model in the message > saved preference > tier/recommendation >
per-task fallback default. A deployment profile may restrict the choice to an allowlist (seed 001:
other models are mapped to an allowed one, with an explanation). Everything is checked against the live
product list; requested parameters are fitted to the chosen leaf's form options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from core.catalog.models import ModelCatalog
from core.catalog.products import ProductLeaf
from core.errors import ErrorKind, InputError
from core.messages import Messages
from core.ports import Preference
from core.request import GenerationRequest, PreferenceIntent, Tier
from core.selection.form_fit import fit_params
from core.types import Language, TaskType

SelectionSource = Literal["user", "preference", "recommendation", "default"]

# When a tier's own model is not offered (e.g. the Sevio-only profile), the closest tier labels to try.
_SIMILAR_TIERS: dict[Tier, tuple[str, ...]] = {
    Tier.BEST: ("best", "premium", "pro"),
    Tier.PRO: ("pro", "premium", "best"),
    Tier.FAST: ("fast",),
    Tier.CHEAPEST: ("cheapest", "budget", "fast"),
}


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """Which models a deployment offers. An empty allowlist offers every live model.

    ``preferred`` orders the allowlist: its first entry is the profile's default (Sevio: ima-pro).
    """

    allowlist: frozenset[str] = frozenset()
    preferred: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, model_profile: str, allowed_models: Sequence[str]) -> ModelProfile:
        if model_profile != "allowlist" or not allowed_models:
            return cls()
        return cls(allowlist=frozenset(allowed_models), preferred=tuple(allowed_models))

    def allows(self, model_id: str) -> bool:
        return not self.allowlist or model_id in self.allowlist


@dataclass(frozen=True, slots=True)
class Selection:
    leaf: ProductLeaf
    model_id: str
    source: SelectionSource
    params: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    mismatch_hint: str | None = None  # show after success only
    alternatives: tuple[str, ...] = ()  # model ids to suggest if this one fails
    recommended_model_id: str | None = None  # what we would pick without the user's preference


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    action: PreferenceIntent
    task_type: TaskType
    model_id: str | None = None
    model_name: str | None = None
    credit: int | None = None

    def to_preference(self, now: float) -> Preference | None:
        if self.action is not PreferenceIntent.SAVE or self.model_id is None:
            return None
        return Preference(
            model_id=self.model_id,
            model_name=self.model_name or self.model_id,
            credit=self.credit,
            last_used=now,
        )


def select_model(
    request: GenerationRequest,
    leaves: Sequence[ProductLeaf],
    *,
    catalog: ModelCatalog,
    preference: Preference | None,
    profile: ModelProfile,
    messages: Messages | None = None,
) -> Selection:
    msgs = messages or Messages.from_package()
    lang = request.language
    task = request.task_type
    offered = [leaf for leaf in leaves if profile.allows(leaf.model_id)]
    if not offered:
        raise InputError(
            f"no model offered for {task.value}",
            kind=ErrorKind.UNKNOWN_MODEL,
            params={"task": msgs.text(f"selection.task.{task.value}", lang)},
        )
    by_id = _index(offered)
    notices: list[str] = []
    recommended, rec_source = _recommendation(request, offered, by_id, catalog, profile)

    chosen: str | None = None
    source: SelectionSource = rec_source
    if request.model_id:
        chosen = _resolve(request.model_id, task, by_id, catalog)
        if chosen is not None:
            source = "user"
        else:
            chosen = _replacement(request.model_id, task, by_id, catalog, profile, recommended)
            notices.append(_replacement_notice(request.model_id, chosen, task, catalog, profile, msgs, lang))
            source = "recommendation"
    elif preference is not None and request.preference is not PreferenceIntent.CLEAR:
        chosen = _resolve(preference.model_id, task, by_id, catalog)
        if chosen is not None:
            source = "preference"
        else:
            notices.append(
                msgs.text(
                    "selection.preference_unavailable",
                    lang,
                    model=_name(preference.model_id, catalog, lang, preference.model_name),
                    chosen=_name(recommended, catalog, lang),
                )
            )
    if chosen is None:
        chosen = recommended
    leaf = by_id[chosen][0]
    params, fit_notices = fit_params(request.params, leaf, _name(chosen, catalog, lang), msgs, lang)
    notices.extend(fit_notices)
    hint = None
    if source == "preference" and recommended != chosen:
        hint = _mismatch_hint(recommended, by_id, catalog, msgs, lang)
    alternatives = tuple(a for a in catalog.alternatives_for(chosen, task) if a in by_id)
    if len(alternatives) < 2:
        extra = [mid for mid in by_id if mid != chosen and mid not in alternatives]
        alternatives = (alternatives + tuple(extra))[:2]
    return Selection(
        leaf=leaf,
        model_id=chosen,
        source=source,
        params=params,
        notices=tuple(notices),
        mismatch_hint=hint,
        alternatives=alternatives,
        recommended_model_id=recommended,
    )


def preference_action(request: GenerationRequest, selection: Selection | None) -> PreferenceChange | None:
    """What to store after this request: save only an explicitly named model that was actually used."""
    if request.preference is PreferenceIntent.CLEAR:
        return PreferenceChange(PreferenceIntent.CLEAR, request.task_type)
    if request.preference is not PreferenceIntent.SAVE or selection is None or selection.source != "user":
        return None
    low, _ = selection.leaf.points_range
    return PreferenceChange(
        PreferenceIntent.SAVE,
        request.task_type,
        model_id=selection.model_id,
        model_name=selection.leaf.name,
        credit=low,
    )


def preference_confirmation(
    change: PreferenceChange, catalog: ModelCatalog, language: Language, messages: Messages | None = None
) -> str:
    """ "✅ 已记住！以后文生视频默认用 可灵 O1。" / "OK, I've cleared your model preference…"."""
    msgs = messages or Messages.from_package()
    task = msgs.text(f"selection.task.{change.task_type.value}", language)
    if change.action is PreferenceIntent.CLEAR or change.model_id is None:
        return msgs.text("selection.preference_cleared", language, task=task)
    model = _name(change.model_id, catalog, language, change.model_name)
    return msgs.text("selection.preference_saved", language, task=task, model=model)


# ---------------------------------------------------------------- helpers


def _index(leaves: Sequence[ProductLeaf]) -> dict[str, list[ProductLeaf]]:
    out: dict[str, list[ProductLeaf]] = {}
    for leaf in leaves:
        out.setdefault(leaf.model_id, []).append(leaf)
    return out


def _resolve(
    model_id: str, task: TaskType, by_id: Mapping[str, list[ProductLeaf]], catalog: ModelCatalog
) -> str | None:
    """The live id for a requested model (exact, per-task id, or case-insensitive), if offered."""
    candidates = [model_id, catalog.for_task(model_id, task), catalog.resolve_alias(model_id, task)]
    for cand in candidates:
        if cand and cand in by_id:
            return cand
    folded = {mid.casefold(): mid for mid in by_id}
    for cand in candidates:
        if cand and cand.casefold() in folded:
            return folded[cand.casefold()]
    return None


def _recommendation(
    request: GenerationRequest,
    offered: Sequence[ProductLeaf],
    by_id: Mapping[str, list[ProductLeaf]],
    catalog: ModelCatalog,
    profile: ModelProfile,
) -> tuple[str, SelectionSource]:
    task = request.task_type
    if request.tier is Tier.CHEAPEST:
        cheapest = min(offered, key=lambda leaf: (leaf.points_range[0], leaf.points_range[1]))
        return cheapest.model_id, "recommendation"
    if request.tier is not None:
        wanted = catalog.tier_model(task, request.tier.value)
        if wanted and (resolved := _resolve(wanted, task, by_id, catalog)):
            return resolved, "recommendation"
        for similar in _SIMILAR_TIERS[request.tier]:
            tiered = [
                m for m in (*profile.preferred, *by_id) if m in by_id and _has_tier(m, similar, catalog)
            ]
            if tiered:
                return tiered[0], "recommendation"
    for mid in profile.preferred:
        if mid in by_id:
            return mid, "default"
    default = _resolve(catalog.fallback_default(task), task, by_id, catalog)
    if default:
        return default, "default"
    for alt in catalog.alternatives_for(catalog.fallback_default(task), task):
        if alt in by_id:
            return alt, "default"
    return offered[0].model_id, "default"


def _has_tier(model_id: str, tier: Tier | str, catalog: ModelCatalog) -> bool:
    info = catalog.info(model_id)
    return info is not None and str(tier) in info.tiers


def _replacement(
    requested: str,
    task: TaskType,
    by_id: Mapping[str, list[ProductLeaf]],
    catalog: ModelCatalog,
    profile: ModelProfile,
    recommended: str,
) -> str:
    """Nearest offered model for one that is not offered (or not allowed) for this task."""
    info = catalog.info(requested)
    if profile.allowlist and info is not None:
        for tier in ("fast", "pro"):
            if tier in info.tiers:
                for mid in profile.preferred:
                    if mid in by_id and _has_tier(mid, tier, catalog):
                        return mid
    for alt in catalog.alternatives_for(requested, task):
        if alt in by_id:
            return alt
    if info is not None:
        for alt in info.alternatives:
            resolved = _resolve(alt, task, by_id, catalog)
            if resolved:
                return resolved
    return recommended


def _replacement_notice(
    requested: str,
    chosen: str,
    task: TaskType,
    catalog: ModelCatalog,
    profile: ModelProfile,
    msgs: Messages,
    lang: Language,
) -> str:
    """Why the named model was swapped: not in this bot's profile, not made for this task, or not live."""
    name = _name(requested, catalog, lang)
    chosen_name = _name(chosen, catalog, lang)
    for_task = catalog.for_task(requested, task)
    if profile.allowlist and not profile.allows(for_task or requested):
        allowed = msgs.text("intent.list_separator", lang).join(
            _name(m, catalog, lang) for m in (profile.preferred or sorted(profile.allowlist))
        )
        return msgs.text("selection.profile_mapped", lang, allowed=allowed, model=name, chosen=chosen_name)
    if catalog.info(requested) is not None and for_task is None:
        task_name = msgs.text(f"selection.task.{task.value}", lang)
        return msgs.text("selection.model_not_for_task", lang, model=name, task=task_name, chosen=chosen_name)
    return msgs.text("selection.model_unavailable", lang, model=name, chosen=chosen_name)


def _mismatch_hint(
    recommended: str,
    by_id: Mapping[str, list[ProductLeaf]],
    catalog: ModelCatalog,
    msgs: Messages,
    lang: Language,
) -> str:
    name = _name(recommended, catalog, lang)
    leaves = by_id.get(recommended, [])
    if leaves and leaves[0].points_range[0] > 0:
        return msgs.text("selection.mismatch_hint", lang, model=name, points=leaves[0].points_range[0])
    return msgs.text("selection.mismatch_hint_no_points", lang, model=name)


def _name(model_id: str, catalog: ModelCatalog, lang: Language, fallback: str | None = None) -> str:
    info = catalog.info(model_id)
    if info is not None:
        return info.display_name(lang)
    return fallback or model_id
