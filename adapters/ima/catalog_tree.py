"""The product-list "V2 tree" (facts §2): walk it into ``ProductLeaf`` values and pick a leaf.

The tree is an array of nodes; type "2" nodes are groups, type "3" nodes are concrete model
versions (leaves). Leaves may sit at any depth. ``type`` is a string on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.catalog.products import CreditRule, ProductLeaf
from core.errors import ErrorKind, ImaApiError
from core.types import TaskType

LEAF_TYPE = "3"


def walk_leaves(nodes: Any, category: TaskType) -> tuple[ProductLeaf, ...]:
    """All type-"3" leaves of ``nodes`` in list order (depth-first, pre-order), parsed.

    Iterative, so a pathologically deep tree cannot exhaust the stack. Malformed nodes (not a
    mapping, no id/model_id) are skipped rather than failing the whole list.
    """
    found: list[ProductLeaf] = []
    stack: list[Any] = list(reversed(nodes)) if isinstance(nodes, list) else []
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if str(node.get("type", "")).strip() == LEAF_TYPE:
            leaf = parse_leaf(node, category)
            if leaf is not None:
                found.append(leaf)
        children = node.get("children")
        if isinstance(children, list):
            stack.extend(reversed(children))
    return tuple(found)


def parse_leaf(node: Mapping[str, Any], category: TaskType) -> ProductLeaf | None:
    version_id = str(node.get("id") or "").strip()
    model_id = str(node.get("model_id") or "").strip()
    if not version_id or not model_id:
        return None
    form = node.get("form_config")
    files = node.get("files")
    return ProductLeaf(
        version_id=version_id,
        model_id=model_id,
        name=str(node.get("name") or version_id),
        category=category,
        parent_id=str(node.get("parent_id") or ""),
        form_config=tuple(f for f in form if isinstance(f, Mapping)) if isinstance(form, list) else (),
        credit_rules=tuple(_parse_rules(node.get("credit_rules"))),
        tags=_parse_tags(node.get("tags")),
        files=files if isinstance(files, Mapping) else None,
    )


def _parse_rules(raw: Any) -> Iterable[CreditRule]:
    if not isinstance(raw, list):
        return
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        attrs = item.get("attributes")
        yield CreditRule(
            attribute_id=_as_int(item.get("attribute_id")),
            points=_as_int(item.get("points")),
            attributes=dict(attrs) if isinstance(attrs, Mapping) else {},
        )


def _parse_tags(raw: Any) -> dict[str, str]:
    # Several tags may share a type (two "popularity" tags); the first one wins, which is what
    # matters for the single-valued EET and point tags.
    tags: dict[str, str] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping) and item.get("tag_type"):
                tags.setdefault(str(item["tag_type"]), str(item.get("tag_value") or "").strip())
    return tags


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def available_model_ids(leaves: Iterable[ProductLeaf]) -> list[str]:
    """Distinct model_ids in list order."""
    return list(dict.fromkeys(leaf.model_id for leaf in leaves))


def choose_leaf(leaves: Sequence[ProductLeaf], model_id: str, version: str | None = None) -> ProductLeaf:
    """The leaf for ``model_id`` (case-insensitive), optionally pinned to a version id or name.

    With several versions the FIRST listed wins: production lists the newest first (Pixverse V5.5
    before V3.5), so the official scripts' "take the last" picks the oldest.
    """
    wanted = model_id.strip().casefold()
    candidates = [leaf for leaf in leaves if leaf.model_id.casefold() == wanted]
    if not candidates:
        raise ImaApiError(
            f"model_id {model_id!r} not offered for {_category(leaves)}",
            kind=ErrorKind.UNKNOWN_MODEL,
            params={"model": model_id, "available": ", ".join(available_model_ids(leaves))},
        )
    if version:
        pin = version.strip().casefold()
        for leaf in candidates:
            if pin in (leaf.version_id.casefold(), leaf.name.casefold()):
                return leaf
        raise ImaApiError(
            f"version {version!r} not offered for model_id {model_id!r}",
            kind=ErrorKind.UNKNOWN_MODEL,
            params={"model": f"{model_id} {version}", "available": ", ".join(
                leaf.version_id for leaf in candidates)},
        )
    return candidates[0]


def _category(leaves: Sequence[ProductLeaf]) -> str:
    return leaves[0].category.value if leaves else "this task type"
