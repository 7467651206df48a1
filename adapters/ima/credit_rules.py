"""Credit-rule selection and inner-parameter merge (facts §3).

Given a leaf and the user's parameter overrides, work out which credit rule the request falls
under (its ``attribute_id`` and ``points``) and the complete inner ``parameters`` object to send.
The algorithm follows the newest official runtime (facts §3.5 variant C): exact match, then the
rule with the most equal attributes, then the default rule; the winning rule's values are sent in
their canonical spelling.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from core.catalog.products import CreditRule, ProductLeaf
from core.errors import ErrorKind, ImaApiError, InputError
from core.types import MediaType

DEFAULT_MARKER = "default"


# ---------------------------------------------------------------- tunable data


@dataclass(frozen=True, slots=True)
class RulesData:
    allowed_extra_keys: Mapping[MediaType, frozenset[str]]
    degrade_key_order: tuple[str, ...]
    static_ladders: Mapping[str, tuple[str, ...]]
    word_scores: Mapping[str, int]
    inner_defaults: Mapping[str, Mapping[str, Any]]  # lowercased model_id -> field -> value
    translations: Mapping[str, Mapping[str, Any]]  # lowercased model_id -> key -> rule


@cache
def rules_data() -> RulesData:
    raw = tomllib.loads(resources.files("adapters.ima").joinpath("ima_rules.toml").read_text("utf-8"))
    degrade = raw["degrade"]
    return RulesData(
        allowed_extra_keys={MediaType(k): frozenset(v) for k, v in raw["allowed_extra_keys"].items()},
        degrade_key_order=tuple(degrade["key_order"]),
        static_ladders={k: tuple(v) for k, v in degrade["static_ladders"].items()},
        word_scores={k.casefold(): int(v) for k, v in degrade["word_scores"].items()},
        inner_defaults={k.casefold(): dict(v) for k, v in raw.get("inner_defaults", {}).items()},
        translations={k.casefold(): dict(v) for k, v in raw.get("param_translations", {}).items()},
    )


# ---------------------------------------------------------------- normalization (§3.2)


def norm_key(key: str) -> str:
    return str(key).strip().lower()


def norm_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().upper()


def values_equal(a: Any, b: Any) -> bool:
    return norm_value(a) == norm_value(b)


def rule_attributes(rule: CreditRule) -> dict[str, Any]:
    """The rule's attributes without the ``default: enabled`` marker."""
    return {k: v for k, v in rule.attributes.items() if norm_key(k) != DEFAULT_MARKER}


def rule_keys(leaf: ProductLeaf) -> frozenset[str]:
    return frozenset(k for rule in leaf.credit_rules for k in rule_attributes(rule))


# ---------------------------------------------------------------- form defaults (§3.3)


@dataclass(frozen=True, slots=True)
class VirtualField:
    """A backend field the UI shows under other name(s), with a value mapping (§2.3)."""

    target: str
    ui_defaults: Mapping[str, Any]
    ui_options: Mapping[str, tuple[Any, ...]]
    mapping: tuple[tuple[Mapping[str, Any], Any], ...]  # (source_values, target_value)

    def map(self, ui_values: Mapping[str, Any]) -> tuple[bool, Any]:
        for source, target in self.mapping:
            if all(k in ui_values and ui_values[k] == v for k, v in source.items()):
                return True, target
        return False, None


def virtual_fields(leaf: ProductLeaf) -> tuple[VirtualField, ...]:
    found: list[VirtualField] = []
    for item in leaf.form_config:
        field_name = item.get("field")
        if not field_name or not item.get("is_ui_virtual"):
            continue
        ui_params = [p for p in item.get("ui_params") or [] if isinstance(p, Mapping) and p.get("field")]
        mapping_raw = (item.get("value_mapping") or {}).get("mapping_rules") or []
        found.append(VirtualField(
            target=str(field_name),
            ui_defaults={str(p["field"]): p.get("value") for p in ui_params},
            ui_options={str(p["field"]): tuple(_option_values(p)) for p in ui_params},
            mapping=tuple(
                (dict(r.get("source_values") or {}), r.get("target_value"))
                for r in mapping_raw if isinstance(r, Mapping)
            ),
        ))
    return tuple(found)


def form_defaults(leaf: ProductLeaf) -> dict[str, Any]:
    """Default inner parameters: field values, virtual fields resolved from their UI defaults.

    Null defaults are skipped; "" and False are kept. Data-file engine defaults (Suno sonic-v5)
    replace a form default when the leaf offers that value.
    """
    virtual = {v.target: v for v in virtual_fields(leaf)}
    engine = rules_data().inner_defaults.get(leaf.model_id.casefold(), {})
    defaults: dict[str, Any] = {}
    for item in leaf.form_config:
        field_name = item.get("field")
        if not field_name:
            continue
        name = str(field_name)
        value = item.get("value")
        if name in virtual:
            hit, mapped = virtual[name].map(virtual[name].ui_defaults)
            if hit:
                value = mapped
        if name in engine and engine[name] in _option_values(item):
            value = engine[name]
        if value is not None:
            defaults[name] = value
    return defaults


def form_fields(leaf: ProductLeaf) -> frozenset[str]:
    return frozenset(str(f["field"]) for f in leaf.form_config if f.get("field"))


def _option_values(item: Mapping[str, Any]) -> list[Any]:
    return [o.get("value") for o in item.get("options") or [] if isinstance(o, Mapping)]


# ---------------------------------------------------------------- user overrides (§3.7, §3.8)


def resolve_virtual_overrides(leaf: ProductLeaf, params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn UI-facing keys into backend fields (``quality=1080p`` -> ``mode=pro`` for Kling).

    An explicit backend value wins over a UI key. A UI value with no mapping is refused with the
    valid UI options (backend enums are never offered to users).
    """
    out = dict(params)
    for vf in virtual_fields(leaf):
        _adopt_resolution_as_quality(vf, leaf, out)
        ui_keys = [k for k in vf.ui_defaults if k in out]
        if not ui_keys:
            continue
        if vf.target in out and vf.target not in vf.ui_defaults:
            for key in ui_keys:
                out.pop(key)
            continue
        ui_values = {k: out.pop(k) for k in ui_keys}
        if vf.target == "size":
            ui_values = {k: str(v).replace("×", "x") for k, v in ui_values.items()}
        patch = {**vf.ui_defaults, **ui_values}
        hit, target = vf.map(patch)
        if not hit:
            hit, target = vf.map({k: str(v).lower() for k, v in patch.items()})
        if not hit and len(ui_keys) == 1 and ui_keys[0] == vf.target and _is_target_value(vf, patch):
            hit, target = True, ui_values[vf.target]
        if not hit:
            key = ui_keys[0]
            raise InputError(
                f"{leaf.model_id}: no mapping for {key}={ui_values[key]!r}",
                kind=ErrorKind.INVALID_INPUT,
                code="virtual_value",
                params={"field": key, "value": str(ui_values[key]), "options": ", ".join(
                    str(o) for o in vf.ui_options.get(key, ()))},
            )
        out[vf.target] = target
    return out


def _adopt_resolution_as_quality(vf: VirtualField, leaf: ProductLeaf, params: dict[str, Any]) -> None:
    # Users say "1080p" for Kling, whose UI calls it quality; take it when resolution means nothing
    # else to this model.
    if "resolution" not in params or "quality" not in vf.ui_defaults or "quality" in params:
        return
    if "resolution" in form_fields(leaf) or "resolution" in rule_keys(leaf):
        return
    wanted = norm_value(params["resolution"])
    if any(norm_value(o) == wanted for o in vf.ui_options.get("quality", ())):
        params["quality"] = params.pop("resolution")


def _is_target_value(vf: VirtualField, patch: Mapping[str, Any]) -> bool:
    value = patch.get(vf.target)
    return any(values_equal(value, t) for _, t in vf.mapping)


def filter_supported(leaf: ProductLeaf, params: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Keep keys this model understands (§3.8); returns (kept, dropped keys).

    Values of enum fields take the option's own spelling and type ("5" -> 5, "1080P" -> "1080p").
    """
    fields = form_fields(leaf)
    allowed = fields | rule_keys(leaf) | rules_data().allowed_extra_keys[leaf.category.media_type]
    allowed |= {k for vf in virtual_fields(leaf) for k in vf.ui_defaults}
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in params.items():
        if value is None:  # "not set": keep the form default
            continue
        if key == "generate_audio" and "audio" in fields and "generate_audio" not in fields:
            key, value = "audio", _as_bool(value)
        if key in allowed:
            kept[key] = _canonical_option(leaf, key, value)
        else:
            dropped.append(key)
    return kept, tuple(dropped)


def _canonical_option(leaf: ProductLeaf, key: str, value: Any) -> Any:
    for item in leaf.form_config:
        if item.get("field") == key:
            for option in _option_values(item):
                if values_equal(option, value):
                    return option
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def translate_params(leaf: ProductLeaf, params: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Generic controls -> this model's fields (data file ``param_translations``); returns
    (params, dropped keys). ``speed=1.2`` becomes ``audio_params.speech_rate=20`` for seed-tts."""
    table = rules_data().translations.get(leaf.model_id.casefold())
    if not table:
        return dict(params), ()
    unsupported = set(table.get("unsupported", ()))
    out: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in params.items():
        rule = table.get(key)
        if key in unsupported:
            dropped.append(key)
        elif isinstance(rule, Mapping) and value is not None:
            parent, _, child = str(rule["target"]).rpartition(".")
            converted = _convert(value, rule)
            if converted is None:
                dropped.append(key)
            elif parent:
                given = params.get(parent)
                nested = out.setdefault(parent, dict(given) if isinstance(given, Mapping) else {})
                nested[child] = converted
            else:
                out[child] = converted
        elif key not in out:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out, tuple(dropped)


def _convert(value: Any, rule: Mapping[str, Any]) -> Any:
    if rule.get("mode") != "percent":
        return value
    try:
        percent = round((float(value) - 1.0) * 100)
    except (TypeError, ValueError):
        return None
    return max(int(rule.get("min", percent)), min(int(rule.get("max", percent)), percent))


# ---------------------------------------------------------------- rule selection (§3.5)


def select_rule(rules: Sequence[CreditRule], candidate: Mapping[str, Any]) -> tuple[CreditRule, bool]:
    """(rule, exact). Exact = every attribute of a non-default rule equals the candidate's value."""
    if not rules:
        raise ImaApiError("leaf has no credit rules", kind=ErrorKind.BAD_PARAMS)
    default = next((r for r in rules if r.is_default_marker), None)
    fallback = default or rules[0]
    wanted = {norm_key(k): norm_value(v) for k, v in candidate.items() if norm_key(k) != DEFAULT_MARKER}
    priced = [r for r in rules if not r.is_default_marker and rule_attributes(r)]
    if not wanted or not priced:
        return fallback, True
    for rule in priced:
        if all(wanted.get(norm_key(k)) == norm_value(v) for k, v in rule_attributes(rule).items()):
            return rule, True
    best: CreditRule | None = None
    best_score = 0
    for rule in priced:
        score = sum(wanted.get(norm_key(k)) == norm_value(v) for k, v in rule_attributes(rule).items())
        if score > best_score:
            best, best_score = rule, score
    return (best or fallback), False


@dataclass(frozen=True, slots=True)
class RuleResolution:
    rule: CreditRule
    exact: bool
    inner_params: Mapping[str, Any]
    ignored_keys: tuple[str, ...] = ()


def resolve(leaf: ProductLeaf, user_params: Mapping[str, Any]) -> RuleResolution:
    """Pick the credit rule for ``user_params`` and merge the inner parameters (§3.5-§3.6).

    Merge order, low to high: form defaults, the defaults' rule, the winning rule's canonical
    values, then the user's other keys. Raises ``InputError`` for unmappable UI values and
    ``ImaApiError`` when the winning rule has no usable attribute_id.
    """
    translated, untranslatable = translate_params(leaf, user_params)
    overrides = resolve_virtual_overrides(leaf, translated)
    overrides, ignored = filter_supported(leaf, overrides)
    ignored = untranslatable + ignored
    defaults = form_defaults(leaf)
    keys = rule_keys(leaf)
    initial, _ = select_rule(leaf.credit_rules, {k: v for k, v in defaults.items() if k in keys})
    merged = {**defaults, **overrides}
    rule, exact = select_rule(leaf.credit_rules, {k: v for k, v in merged.items() if k in keys})
    canonical = rule_attributes(rule)
    inner: dict[str, Any] = {**defaults, **rule_attributes(initial), **canonical}
    inner.update({k: v for k, v in overrides.items() if k not in canonical})
    inner.pop(DEFAULT_MARKER, None)
    if rule.attribute_id <= 0:
        raise ImaApiError(
            f"{leaf.model_id}: rule has attribute_id {rule.attribute_id}; refusing to send",
            kind=ErrorKind.BAD_PARAMS, code="attribute_id_0", params={"model": leaf.name},
        )
    return RuleResolution(rule=rule, exact=exact, inner_params=inner, ignored_keys=ignored)
