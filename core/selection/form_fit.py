"""Fitting requested parameters to a product leaf's form options: values not offered become the closest
option, with a localized notice ("当前最长15秒")."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.catalog.products import ProductLeaf
from core.messages import Messages
from core.types import Language

_VOICE_FIELDS = ("voice_id", "voice_type", "voice", "speaker")
# Speech controls the form seldom lists: they go on to the gateway, which maps them to the model's own
# fields (seed-tts: ``audio_params``) or reports them as not supported, so the user hears about it.
SPEECH_CONTROLS = ("speed", "volume", "pitch", "emotion", "voice")


@dataclass(frozen=True)
class _Fitting:
    """One fit in progress: where fitted values and notices go, and how notices are worded."""

    form: Mapping[str, list[Any]]
    defaults: Mapping[str, Any]
    out: dict[str, Any]
    notices: list[str]
    model: str
    msgs: Messages
    lang: Language

    def notice(self, key: str, **values: Any) -> None:
        self.notices.append(self.msgs.text(key, self.lang, model=self.model, **values))

    def unsupported(self, param: str) -> None:
        name = self.msgs.text(f"selection.param.{param}", self.lang)
        self.notice("selection.unsupported_param", param=name)


def fit_params(
    params: Mapping[str, Any], leaf: ProductLeaf, model_name: str, msgs: Messages, lang: Language
) -> tuple[dict[str, Any], list[str]]:
    """The request's params in the leaf's own terms; values not offered become the closest option."""
    form = _form_options(leaf)
    defaults = {str(item.get("field")): item.get("value") for item in leaf.form_config}
    fit = _Fitting(form, defaults, {}, [], model_name, msgs, lang)
    for key, value in params.items():
        if key == "duration":
            _fit_duration(value, fit)
        elif key == "duration_rejected":
            _reject_duration(str(value), fit)
        elif key == "n":
            _fit_count(value, fit)
        elif key == "resolution":
            target = "resolution" if "resolution" in form else "quality" if "quality" in form else None
            _fit_choice(key, target, value, fit, _resolution_rank)
        elif key in ("aspect_ratio", "size"):
            target = key if key in form else None
            rank = _ratio_rank if key == "aspect_ratio" else _size_rank
            _fit_choice(key, target, value, fit, rank)
        elif key == "generate_audio":
            _fit_audio(bool(value), fit)
        elif key == "voice":
            if not _fit_voice(str(value), form, fit.out):
                fit.out[key] = value
        elif key in form or key in SPEECH_CONTROLS:
            fit.out[key] = value
    return fit.out, fit.notices


def unsupported_notices(
    ignored: Sequence[str], requested: Mapping[str, Any], model_name: str, msgs: Messages, lang: Language
) -> list[str]:
    """Speech controls the user asked for that the gateway found no field for ("语速快一点" on a model
    without a speed): one notice each, before anything is charged."""
    asked = [key for key in SPEECH_CONTROLS if key in ignored and key in requested]
    return [
        msgs.text(
            "selection.unsupported_param",
            lang,
            model=model_name,
            param=msgs.text(f"selection.param.{key}", lang),
        )
        for key in asked
    ]


def _form_options(leaf: ProductLeaf) -> dict[str, list[Any]]:
    """field name (UI name for virtual fields) -> offered option values ([] = free value)."""
    out: dict[str, list[Any]] = {}
    for item in leaf.form_config:
        ui_params = item.get("ui_params") or []
        if item.get("is_ui_virtual") and ui_params:
            for ui in ui_params:
                out[str(ui.get("field"))] = [o.get("value") for o in ui.get("options") or []]
            continue
        out[str(item.get("field"))] = [o.get("value") for o in item.get("options") or []]
    return out


def _fit_duration(value: Any, fit: _Fitting) -> None:
    if "duration" not in fit.form:
        fit.unsupported("duration")
        return
    options = [(o, n) for o in fit.form["duration"] if (n := _number(o)) is not None]
    wanted = _number(value)
    if not options or wanted is None:
        fit.out["duration"] = value
        return
    exact = [o for o, n in options if n == wanted]
    if exact:
        fit.out["duration"] = exact[0]
        return
    best, best_n = min(options, key=lambda item: (abs(item[1] - wanted), -item[1]))
    fit.out["duration"] = best
    longest = max(n for _, n in options)
    key = "selection.clamped_duration" if wanted > longest else "selection.adjusted_duration"
    fit.notice(key, requested=_fmt(wanted), maximum=_fmt(longest), chosen=_fmt(best_n))


def _reject_duration(requested: str, fit: _Fitting) -> None:
    """A length no clip has ("99999秒", "0秒"): the model's default, said before anything is charged."""
    lengths = sorted(n for o in fit.form.get("duration", []) if (n := _number(o)) is not None)
    if not lengths:
        fit.unsupported("duration")
        return
    default = _number(fit.defaults.get("duration"))
    chosen = default if default is not None else lengths[0]
    span = _fmt(lengths[0]) if lengths[0] == lengths[-1] else f"{_fmt(lengths[0])}–{_fmt(lengths[-1])}"
    fit.notices.append(
        fit.msgs.text(
            "understanding.duration_out_of_range",
            fit.lang,
            model=fit.model,
            lengths=span,
            requested=requested,
            chosen=_fmt(chosen),
        )
    )


def _fit_count(value: Any, fit: _Fitting) -> None:
    """ "画4张" / "two versions": ``n`` where the form offers it (credits × n, said so), else one."""
    wanted = int(value)
    offered = sorted(int(n) for o in fit.form.get("n", []) if (n := _number(o)) is not None)
    if not offered or max(offered) < 2:
        fit.notice("understanding.one_at_a_time", requested=wanted)
        return
    chosen = max((n for n in offered if n <= wanted), default=offered[0])
    option = next(o for o in fit.form["n"] if _number(o) == chosen)
    fit.out["n"] = option
    if chosen == wanted:
        fit.notice("understanding.count", n=chosen)
    else:
        fit.notice("understanding.count_fitted", n=chosen, maximum=max(offered))


def _fit_choice(
    key: str, target: str | None, value: Any, fit: _Fitting, rank: Callable[[Any], float | None]
) -> None:
    if target is None:
        fit.unsupported(key)
        return
    options = fit.form[target]
    if not options:
        fit.out[target] = value
        return
    folded = {str(o).casefold(): o for o in options}
    if str(value).casefold() in folded:
        fit.out[target] = folded[str(value).casefold()]
        return
    wanted = rank(value)
    ranked = [(o, r) for o in options if (r := rank(o)) is not None]
    if wanted is None or not ranked:
        return
    best = min(ranked, key=lambda item: (abs(item[1] - wanted), -item[1]))[0]
    fit.out[target] = best
    message = {
        "resolution": "selection.adjusted_resolution",
        "aspect_ratio": "selection.adjusted_aspect",
        "size": "selection.adjusted_size",
    }[key]
    fit.notice(message, requested=value, chosen=best)


def _fit_audio(wanted: bool, fit: _Fitting) -> None:
    for name in ("generate_audio", "audio"):
        if name in fit.form:
            fit.out[name] = wanted
            return
    if "sound" in fit.form:
        options = [str(o) for o in fit.form["sound"]]
        value = "on" if wanted else "off"
        if not options or value in options:
            fit.out["sound"] = value
            return
    fit.unsupported("generate_audio")


def _fit_voice(gender: str, form: Mapping[str, list[Any]], out: dict[str, Any]) -> bool:
    words = ("female", "女", "woman", "girl") if gender == "female" else ("male", "男", "man", "boy")
    for name in _VOICE_FIELDS:
        for option in form.get(name, []):
            text = str(option).casefold()
            if any(w in text for w in words) and not (gender == "male" and "female" in text):
                out[name] = option
                return True
    return False


def _number(value: Any) -> float | None:
    try:
        return float(str(value).strip().rstrip("sS"))
    except ValueError:
        return None


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _resolution_rank(value: Any) -> float | None:
    text = str(value).strip().upper()
    if match := re.fullmatch(r"(\d{3,4})[PI]?", text):
        return float(match.group(1))
    return {"1K": 1080.0, "2K": 1440.0, "4K": 2160.0, "8K": 4320.0}.get(text)


def _ratio_rank(value: Any) -> float | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*", str(value))
    if not match or float(match.group(2)) == 0 or float(match.group(1)) == 0:
        return None
    return math.log(float(match.group(1)) / float(match.group(2)))


def _size_rank(value: Any) -> float | None:
    text = str(value).strip().upper()
    if text.endswith("PX") and text[:-2].isdigit():
        return int(text[:-2]) / 1024
    if match := re.fullmatch(r"(\d(?:\.\d)?)K", text):
        return float(match.group(1))
    if match := re.fullmatch(r"(\d{3,4})\s*[X×*]\s*(\d{3,4})", text):
        return max(int(match.group(1)), int(match.group(2))) / 1024
    return None
