"""Server-side credit-rule recomputation (facts §3.1/§3.2): a rule matches when every one of its
attributes (the ``default: enabled`` marker aside) is present in the inner params and equal after
normalization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.catalog import SimLeaf, SimRule


def normalize_key(key: str) -> str:
    return key.strip().lower()


def normalize_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().upper()


def rule_matches(rule: SimRule, params: Mapping[str, Any]) -> bool:
    normalized = {normalize_key(k): normalize_value(v) for k, v in params.items()}
    for key, expected in rule.attributes.items():
        if rule.is_default_marker and normalize_key(key) == "default":
            continue
        if normalized.get(normalize_key(key)) != normalize_value(expected):
            return False
    return True


def matching_rules(leaf: SimLeaf, params: Mapping[str, Any]) -> list[SimRule]:
    return [rule for rule in leaf.rules if rule_matches(rule, params)]


def param_equals(params: Mapping[str, Any], name: str, expected: str) -> bool:
    normalized = {normalize_key(k): v for k, v in params.items()}
    key = normalize_key(name)
    return key in normalized and normalize_value(normalized[key]) == normalize_value(expected)
