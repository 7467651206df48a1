"""``tasks/create`` validation in production's order (facts §11.2). Returns the accepted task's
pricing, or raises ``RejectedError`` carrying the business code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.types import TaskType
from sim.catalog import Catalog, SimLeaf, SimRule
from sim.policy import Policy
from sim.pricing import matching_rules, param_equals
from sim.state import KeyAccount


class RejectedError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Accepted:
    task_type: TaskType
    leaf: SimLeaf
    rule: SimRule
    inner: Mapping[str, Any]
    n: int

    @property
    def total_points(self) -> int:
        return self.rule.points * self.n


def _int(value: Any, what: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise RejectedError(400, f"Invalid {what}") from None


def _known_model_value(leaf: SimLeaf, value: Any) -> bool:
    if not value:
        return False
    for item in leaf.form or ():
        if item["field"] == "model" and item.get("options"):
            allowed = {str(o["value"] if isinstance(o, dict) else o).lower() for o in item["options"]}
            return str(value).strip().lower() in allowed
    return True


def _input_urls(body: Mapping[str, Any], inner: Mapping[str, Any]) -> Sequence[Any]:
    images = inner.get("input_images")
    if images is None:
        images = body.get("src_img_url")
    if images is None:
        return []
    if not isinstance(images, list):
        raise RejectedError(400, "input_images must be a list")
    return images


def validate_create(body: Any, catalog: Catalog, account: KeyAccount, policy: Policy) -> Accepted:
    if not isinstance(body, dict):
        raise RejectedError(400, "Request body must be a JSON object")
    params = body.get("parameters")
    if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
        raise RejectedError(400, "parameters must be a list with exactly one element")
    outer: dict[str, Any] = params[0]
    try:
        task_type = TaskType(str(body.get("task_type")))
    except ValueError:
        raise RejectedError(400, f"Invalid task_type: {body.get('task_type')!r}") from None
    if outer.get("category") != task_type.value:
        raise RejectedError(400, "task_type does not match parameters[0].category")
    leaf = catalog.find(task_type, str(outer.get("model_id")), str(outer.get("model_version")))
    if leaf is None:
        raise RejectedError(400, f"Model not found: model_id={outer.get('model_id')!r} "
                             f"model_version={outer.get('model_version')!r} for {task_type.value}")
    inner = outer.get("parameters")
    if not isinstance(inner, dict):
        raise RejectedError(400, "parameters[0].parameters must be an object")

    sent = leaf.rule_by_id(outer.get("attribute_id"))
    if sent is None:
        raise RejectedError(400, "Invalid product attribute")
    matches = matching_rules(leaf, inner)
    if not matches:
        raise RejectedError(6009, "No exact rule match (MatchScore < 1.0)")
    if sent not in matches:
        raise RejectedError(6010, f"Attribute ID does not match the calculated rule "
                              f"(sent {sent.attribute_id}, calculated {matches[0].attribute_id})")
    rule = sent
    cast = inner.get("cast")
    if not isinstance(cast, dict):
        raise RejectedError(6006, "billing validation failure: cast is missing")
    credit = _int(outer.get("credit"), "credit")
    if credit != rule.points or _int(cast.get("points"), "cast.points") != rule.points:
        raise RejectedError(6006, f"Credit mismatch: expected {rule.points} points")
    if leaf.model_id in policy.engine_param_models and not _known_model_value(leaf, inner.get("model")):
        raise RejectedError(400017, "err_code=400017 err_msg=Invalid value for model")
    for refused in policy.rejected_values:
        if (refused.model_id, refused.category) == (leaf.model_id, task_type) and \
                param_equals(inner, refused.param, refused.value):
            raise RejectedError(refused.code, refused.message)
    if leaf.model_id in policy.subscription_models and not account.subscription:
        raise RejectedError(4014, "This model requires a subscription")
    n = _int(inner.get("n", 1), "n")
    if n < 1:
        raise RejectedError(400, "Invalid n")
    if account.balance < rule.points * n:
        raise RejectedError(4008, "Insufficient points")
    low, high = policy.input_images[task_type]
    count = len(_input_urls(body, inner))
    if count < low or (high is not None and count > high):
        wanted = f"exactly {low}" if low == high else f"at least {low}"
        raise RejectedError(400, f"{task_type.value} needs {wanted} input image(s), got {count}")
    return Accepted(task_type=task_type, leaf=leaf, rule=rule, inner=inner, n=n)
