"""Terminal rendering of UX events.

On a TTY the status line is rewritten in place with ``\\r``; otherwise every status change is a plain
line (stable for logs, pipes and tests). Results print their text, then cover and extra media URLs; the
first media URL is left to the link message that follows, so no URL is printed twice. A terminal has no
message to edit, so a job's final status line is dropped once its result or failure was printed.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, TextIO

from adapters.chat.texts import chat_messages
from adapters.console import MESSAGES_PACKAGE
from core.messages import Messages
from core.platform import Slot, Step, UxEvent

_CLEAR_LINE = "\r\x1b[K"
EXCERPT_CHARS = 30


def status_line(event: UxEvent) -> str:
    """The part of a status text that changes: what follows the pre-generation block, on one line."""
    tail = event.text.rsplit("\n\n", 1)[-1] if event.step is not Step.PREGEN else event.text
    return " · ".join(part.strip() for part in tail.splitlines() if part.strip())


class ConsoleSink:
    def __init__(self, out: TextIO, messages: Messages, *, tty: bool | None = None) -> None:
        self._out = out
        self._m = chat_messages(messages, MESSAGES_PACKAGE)
        self._tty = out.isatty() if tty is None else tty
        self._ids = itertools.count(1)
        self._open_line = False  # a \r status line is on screen without its newline
        self._last_plain: dict[str, str] = {}
        self._answered: set[str] = set()  # jobs whose result or failure message is on screen
        self._prompts: dict[str, str] = {}  # running job -> excerpt of the words that started it
        self._crowded: set[str] = set()  # jobs that ran alongside another: their results get the excerpt
        self._blocks: dict[str, str] = {}  # the pre-generation block last printed for each job

    def remember_prompt(self, job_id: str, text: str) -> None:
        """While several jobs run, each result is headed by an excerpt of its request."""
        words = " ".join(text.split())
        if self._prompts:
            self._crowded.update(self._prompts)
            self._crowded.add(job_id)
        self._prompts[job_id] = words if len(words) <= EXCERPT_CHARS else words[:EXCERPT_CHARS] + "…"

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def _close_line(self) -> None:
        if self._open_line:
            self._write("\n")
            self._open_line = False

    async def emit(self, event: UxEvent) -> str | None:
        if event.slot is Slot.STATUS:
            self._status(event)
            return event.message_ref or f"console-status-{next(self._ids)}"
        self._close_line()
        lines = [event.text]
        if event.slot is Slot.RESULT:
            if event.job_id in self._crowded and event.job_id not in self._answered:
                lines.insert(0, self._m.text("console.result_for", event.language,
                                             excerpt=self._prompts[event.job_id]))
            self._answered.add(event.job_id)
        for index, media in enumerate(event.media):
            if index:  # the link message that follows carries the first URL
                lines.append(self._m.text("console.media", event.language, url=media.url))
            if media.cover_url:
                lines.append(self._m.text("console.cover", event.language, url=media.cover_url))
        self._write("\n".join(lines) + "\n")
        return f"console-{next(self._ids)}"

    def _status(self, event: UxEvent) -> None:
        if event.step is Step.DONE:
            self._prompts.pop(event.job_id, None)
            self._crowded.discard(event.job_id)
            self._blocks.pop(event.job_id, None)
        if event.step is Step.DONE and event.job_id in self._answered:
            self._answered.discard(event.job_id)
            return
        if event.step in (Step.ACK, Step.PREGEN):
            self._close_line()
            self._write(self._new_part(event) + "\n")
            return
        line = status_line(event)
        if event.step is Step.PROGRESS and self._tty:
            self._write(_CLEAR_LINE + line)
            self._open_line = True
            return
        if self._tty:
            self._write(_CLEAR_LINE)
            self._open_line = False
        if self._last_plain.get(event.job_id) != line:
            self._last_plain[event.job_id] = line
            self._write(line + "\n")

    def _new_part(self, event: UxEvent) -> str:
        """A platform edits its status message; a terminal prints only what the edit added (the
        confirmation question or queue line under the block already on screen)."""
        shown, self._blocks[event.job_id] = self._blocks.get(event.job_id), event.text
        if shown and event.text.startswith(shown) and event.text != shown:
            return event.text[len(shown):].strip("\n")
        return event.text


def event_json(event: UxEvent) -> dict[str, Any]:
    """One UX event as the JSON object ``imabot generate --json`` prints."""
    data: dict[str, Any] = {"step": event.step.name.lower(), "slot": event.slot.value, "text": event.text,
                            "job_id": event.job_id}
    first = event.media[0] if event.media else None
    extras: dict[str, Any] = {
        "percent": event.percent, "media_url": first.url if first else None,
        "cover_url": first.cover_url if first else None, "credits": event.credits, "model_id": event.model_id,
        "model_name": event.model_name, "error_kind": event.error_kind.value if event.error_kind else None,
        "alternatives": [{"model_id": a.model_id, "model_name": a.model_name, "points": a.points}
                         for a in event.alternatives] or None,
        "actions": [a.value for a in event.actions] or None,
    }
    data.update({k: v for k, v in extras.items() if v is not None})
    return data


class JsonLinesSink:
    """One JSON object per event, one per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._ids = itertools.count(1)

    async def emit(self, event: UxEvent) -> str | None:
        self._out.write(json.dumps(event_json(event), ensure_ascii=False) + "\n")
        self._out.flush()
        if event.slot is Slot.STATUS and event.message_ref:
            return event.message_ref
        return f"json-{next(self._ids)}"
