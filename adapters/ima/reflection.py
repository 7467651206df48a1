"""Create-time "reflection" (facts §7): after certain create errors, adjust and try again.

At most ``MAX_ATTEMPTS`` creates in all. Only create errors are reflected; polls never are.
- 500 (server rejected the complexity): degrade ONE parameter one step down a ladder built from
  the values the credit rules offer (numbers included: duration 10 -> 5).
- 6009 (no rule matched): add the cheapest rule's attributes the request is missing.
- 6010 (attribute_id differs from the server's rule): reselect the rule from the full parameters
  and re-read the product list, whose attribute ids may have changed.
- 6006 (credit differs from the server's price): re-read the product list (prices change often);
  the caller gives up when the fresh list quotes the same price.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.ima.credit_rules import norm_value, rule_attributes, rule_keys, rules_data, select_rule
from core.catalog.products import ProductLeaf
from core.errors import ErrorKind

MAX_ATTEMPTS = 3
REFLECTABLE_KINDS = frozenset({ErrorKind.SERVER_ERROR, ErrorKind.NO_RULE, ErrorKind.ATTRIBUTE_MISMATCH,
                               ErrorKind.CREDIT_MISMATCH})

_PAIR = re.compile(r"(\d+)\s*[x×*]\s*(\d+)")
_KILO = re.compile(r"^(\d+(?:\.\d+)?)\s*k$", re.IGNORECASE)
_PX = re.compile(r"^(\d+)\s*px$", re.IGNORECASE)
_INT = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class RetryPlan:
    params: Mapping[str, Any]  # the user parameters for the next attempt
    adjustments: tuple[str, ...] = ()  # human-readable, e.g. "duration:10->5"
    refresh_catalog: bool = False


def plan_retry(kind: ErrorKind, leaf: ProductLeaf, params: Mapping[str, Any],
               sent_inner: Mapping[str, Any]) -> RetryPlan | None:
    """What to change before the next create, or None to give up."""
    if kind is ErrorKind.SERVER_ERROR:
        return _degrade(leaf, params, sent_inner)
    if kind is ErrorKind.NO_RULE:
        return _add_cheapest_rule_attributes(leaf, params)
    if kind is ErrorKind.ATTRIBUTE_MISMATCH:
        return _reselect(leaf, params, sent_inner)
    if kind is ErrorKind.CREDIT_MISMATCH:
        return RetryPlan(params=dict(params), refresh_catalog=True)
    return None


# ---------------------------------------------------------------- 500


def _degrade(leaf: ProductLeaf, params: Mapping[str, Any], sent: Mapping[str, Any]) -> RetryPlan | None:
    for key in rules_data().degrade_key_order:
        if key not in sent:
            continue
        lower = ladder_below(leaf, key, sent[key])
        if lower:
            new = lower[0]
            return RetryPlan(params={**params, key: new}, adjustments=(f"{key}:{sent[key]}->{new}",))
    return None


def ladder_below(leaf: ProductLeaf, key: str, current: Any) -> list[Any]:
    """Values of ``key`` cheaper than ``current``, most expensive first.

    Taken from the credit rules; the data file's static ladder applies only when no rule prices
    the key.
    """
    offered = [rule_attributes(r)[key] for r in leaf.credit_rules if key in rule_attributes(r)]
    if not offered:
        offered = list(rules_data().static_ladders.get(key, ()))
    current_score = value_score(key, current)
    if current_score is None:
        return []
    seen: set[str] = set()
    lower: list[tuple[float, Any]] = []
    for value in offered:
        score = value_score(key, value)
        if score is None or score >= current_score or norm_value(value) in seen:
            continue
        seen.add(norm_value(value))
        lower.append((score, value))
    lower.sort(key=lambda item: -item[0])
    return [value for _, value in lower]


def value_score(key: str, value: Any) -> float | None:
    """A comparable rank: bigger = more expensive; None when the value has no known rank."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    word = rules_data().word_scores.get(text.casefold())
    if word is not None:
        return float(word)
    squared = key == "size"
    if pair := _PAIR.search(text):
        return float(int(pair.group(1)) * int(pair.group(2)))
    if kilo := _KILO.match(text):
        side = float(kilo.group(1)) * 1000
        return side * side if squared else side
    if px := _PX.match(text):
        side = float(px.group(1))
        return side * side if squared else side
    if number := _INT.search(text):
        return float(number.group(0))
    return None


# ---------------------------------------------------------------- 6009


def _add_cheapest_rule_attributes(leaf: ProductLeaf, params: Mapping[str, Any]) -> RetryPlan | None:
    priced = [r for r in leaf.credit_rules if rule_attributes(r)]
    if not priced:
        return None
    cheapest = min(priced, key=lambda r: r.points)  # min keeps the first of equal prices
    missing = {k: v for k, v in rule_attributes(cheapest).items() if k not in params}
    if not missing:
        return None
    return RetryPlan(params={**params, **missing},
                     adjustments=tuple(f"+{k}={v}" for k, v in missing.items()))


# ---------------------------------------------------------------- 6010


def _reselect(leaf: ProductLeaf, params: Mapping[str, Any], sent: Mapping[str, Any]) -> RetryPlan:
    keys = rule_keys(leaf)
    rule, _ = select_rule(leaf.credit_rules, {k: v for k, v in sent.items() if k in keys})
    attrs = rule_attributes(rule)
    changes = tuple(f"{k}:{sent[k]}->{v}" for k, v in attrs.items()
                    if k in sent and norm_value(sent[k]) != norm_value(v))
    return RetryPlan(params={**params, **attrs}, adjustments=changes, refresh_catalog=True)
