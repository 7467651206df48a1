"""Readable one-line reports of configuration mistakes: unknown keys with a close match, and pydantic
validation errors as ``[section] key = value: what is wrong``.

General over the settings model: it walks whatever sections ``bot.settings.Settings`` declares, so a
section added later is checked the same way without changes here.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError


def unknown_keys(data: Mapping[str, Any], model: type[BaseModel], *, exclude: Iterable[str] = (),
                 where: tuple[str, ...] = ()) -> list[str]:
    """Every key of ``data`` (recursively, through nested section models) the model does not declare,
    each as "unknown key [section] name (did you mean 'x'?)"."""
    known = {name: field for name, field in model.model_fields.items() if name not in set(exclude)}
    names = set(known) | {f.alias for f in known.values() if f.alias}
    found: list[str] = []
    for key, value in data.items():
        path = (*where, str(key))
        if key not in names:
            found.append(f"unknown key {_shown(path)}{_did_you_mean(str(key), names)}")
            continue
        field = known.get(key)
        nested = _section_model(field.annotation) if field is not None else None
        if nested is not None and isinstance(value, Mapping):
            found.extend(unknown_keys(value, nested, where=path))
    return found


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """All problems of ``exc`` on one line, each naming the key, the value given and what is allowed."""
    parts: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            names = set(parent.model_fields) if parent is not None else set()
            parts.append(f"unknown key {_shown(loc)}{_did_you_mean(loc[-1], names)}")
            continue
        value = error.get("input")
        shown_value = f" = {value!r}" if not isinstance(value, Mapping | list) else ""
        parts.append(f"{_shown(loc)}{shown_value}: {_allowed(error)}")
    return "; ".join(parts)


def _allowed(error: Any) -> str:
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    if error["type"] == "string_pattern_mismatch" and "pattern" in ctx:
        return "not in the expected form (see config.example.toml)"
    return message[:1].lower() + message[1:]


def _shown(path: tuple[str, ...]) -> str:
    if len(path) == 1:
        return f"'{path[0]}'"
    return f"[{path[0]}] {'.'.join(path[1:])}"


def _did_you_mean(key: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _model_at(model: type[BaseModel], loc: tuple[str, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or part not in current.model_fields:
            return None
        current = _section_model(current.model_fields[part].annotation)
    return current


def _section_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _section_model(arg)
            if found is not None:
                return found
    return None
