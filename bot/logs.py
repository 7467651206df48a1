"""Logging set-up for long-running commands: ``--log-format json|text`` (default: text on a terminal,
JSON otherwise). Lines about a job carry ``job_id``, ``platform``, ``chat`` and ``user`` (a stable hash)
from ``core.ops.log_context``. Signed URLs lose their query string in every line; the IMA key is
already masked by the filters ``adapters.ima.errors`` installs."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Literal, TextIO

from adapters.ima.errors import redact_text
from core.jobs import Job, JobState
from core.ops.log_context import current_fields
from core.ops.telemetry import NoTelemetry

LogFormat = Literal["json", "text"]
FORMATS = ("json", "text")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_log = logging.getLogger("imabot.jobs")


def default_format(stream: TextIO) -> LogFormat:
    return "text" if stream.isatty() else "json"


class JobFieldsFilter(logging.Filter):
    """Copies the current job's fields onto the record (``record.job_id`` ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current_fields()
        record.imabot_fields = dict(fields)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, object] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        line.update(getattr(record, "imabot_fields", {}))
        if record.exc_info:
            line["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        text = redact_text(super().format(record))
        fields = getattr(record, "imabot_fields", {})
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return text


def configure_logging(level: str, log_format: LogFormat | None, stream: TextIO | None = None) -> None:
    """Replace the root handlers with one writing ``log_format`` lines to ``stream`` (stderr)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    chosen = log_format or default_format(stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.addFilter(JobFieldsFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


class JobLog(NoTelemetry):
    """One INFO line per job transition (the line carries the job's fields like every other)."""

    def job_state(self, job: Job, previous: JobState | None) -> None:
        _log.info("job %s: %s -> %s", job.job_id, previous.value if previous else "new", job.state.value)
