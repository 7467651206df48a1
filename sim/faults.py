"""Fault specs: a tiny string grammar (documented in ``sim/README.md``) parsed into frozen values.

``ROUTE[:KEY[=VALUE]]...`` e.g. ``create:code=500:when=resolution=1080P:once``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

ROUTES = frozenset({"create", "detail", "verify", "list", "token", "upload", "files", "media", "task", "any"})
_INT_KEYS = frozenset({"code", "http", "times", "rs", "empty_url"})
_FLOAT_KEYS = frozenset({"retry_after", "delay", "result_size_mb"})
_STR_KEYS = frozenset({"message", "model", "match", "status", "error_msg"})
_FLAG_KEYS = frozenset({"reset", "malformed", "stuck"})


class FaultSpecError(ValueError):
    """A fault string that does not follow the grammar."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    route: str
    # response faults (create/detail/verify/list/token/upload/files/media/any)
    code: int | None = None
    http: int | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float | None = None
    reset: bool = False
    malformed: bool = False
    # filters
    when: tuple[str, str] | None = None
    model: str | None = None
    match: str | None = None
    times: int | None = None  # None = always
    # task-outcome faults (route "task") and verify outcome (route "verify")
    rs: int | None = None
    status: str | None = None
    error_msg: str | None = None
    empty_url: int = 0
    stuck: bool = False
    result_size_mb: float | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        route, *parts = [p.strip() for p in text.strip().split(":")]
        if route not in ROUTES:
            raise FaultSpecError(f"unknown fault route {route!r}; expected one of {sorted(ROUTES)}")
        values: dict[str, Any] = {}
        for part in parts:
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            try:
                if key == "once" and not sep:
                    values["times"] = 1
                elif key == "always" and not sep:
                    values["times"] = None
                elif key in _FLAG_KEYS:
                    values[key] = not sep or raw.strip().lower() in ("1", "true", "yes")
                elif not sep:
                    raise FaultSpecError(f"fault key {key!r} needs a value")
                elif key == "when":
                    name, eq, expected = raw.partition("=")
                    if not eq:
                        raise FaultSpecError("when= needs PARAM=VALUE")
                    values["when"] = (name.strip(), expected.strip())
                elif key in _INT_KEYS:
                    values[key] = int(raw)
                elif key in _FLOAT_KEYS:
                    values[key] = float(raw)
                elif key in _STR_KEYS:
                    values[key] = raw
                else:
                    raise FaultSpecError(f"unknown fault key {key!r} in {text!r}")
            except ValueError as exc:
                if isinstance(exc, FaultSpecError):
                    raise
                raise FaultSpecError(f"bad value for {key!r} in {text!r}") from exc
        spec = cls(route=route, **values)
        spec._check_route_fit(text)
        return spec

    def _check_route_fit(self, text: str) -> None:
        task_only = self.rs is not None or self.stuck or self.empty_url > 0 or self.result_size_mb is not None
        if self.route == "task":
            if not self.is_outcome_fault or self.code is not None or self.http is not None or self.reset \
                    or self.malformed:
                raise FaultSpecError(f"{text!r}: a task fault needs rs=, status=failed, empty_url=, stuck or "
                                     "result_size_mb= (and nothing else)")
        elif task_only or (self.status is not None and self.route != "verify"):
            raise FaultSpecError(f"{text!r}: outcome keys belong on route 'task' (or status= on 'verify')")
        elif not self.is_response_fault and not self.is_outcome_fault:
            raise FaultSpecError(f"{text!r}: nothing to inject (code=, http=, delay=, reset or malformed)")

    def render(self) -> str:
        parts = [self.route]
        for f in fields(self):
            if f.name == "route":
                continue
            value = getattr(self, f.name)
            if value is None or value is False or (f.name == "empty_url" and value == 0):
                continue
            if value is True:
                parts.append(f.name)
            elif f.name == "when":
                parts.append(f"when={value[0]}={value[1]}")
            else:
                parts.append(f"{f.name}={value}")
        return ":".join(parts)

    @property
    def is_outcome_fault(self) -> bool:
        """Decides how a task ends (route ``task``) or what verify reports (route ``verify``)."""
        return (self.rs is not None or self.status is not None or self.stuck or self.empty_url > 0
                or self.result_size_mb is not None)

    @property
    def is_response_fault(self) -> bool:
        return (self.code is not None or self.http is not None or self.reset or self.malformed
                or self.delay is not None)


class ArmedFault:
    """A fault spec plus how many more times it may fire (None = unlimited)."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.remaining = spec.times
        self.fired = 0

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def consume(self) -> None:
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
