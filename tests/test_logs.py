"""Log lines: JSON off a terminal, text on one; lines written while a job runs carry its id, place and
user hash (never the raw user id); signed URLs lose their query string and the IMA key is masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from adapters.ima.errors import install_log_redaction
from bot.logs import configure_logging, default_format
from core.ops.history import user_hash
from core.ops.log_context import about_job
from tests.test_jobs import make_job

KEY = "ima_logtest_0123456789SECRET"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_job_and_hide_secrets(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("INFO", None, out)  # a StringIO is not a terminal: JSON
    install_log_redaction(KEY)
    job = make_job("j-log-1")
    with about_job(job):
        logging.getLogger("imabot.test").info("fetched %s", "https://cdn.test/v.mp4?Signature=abc&X-Key=1")
        logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", f"https://up.test/t?appUid={KEY}")
    logging.getLogger("imabot.test").warning("no job here")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    first, second, third = lines
    assert first["job_id"] == second["job_id"] == "j-log-1"
    assert first["platform"] == "console" and first["chat"] == job.conversation.chat_id
    assert first["user"] == user_hash("console", job.conversation.user_id)
    assert job.conversation.user_id not in json.dumps(first)
    assert first["msg"] == "fetched https://cdn.test/v.mp4"
    assert KEY not in out.getvalue() and "Signature" not in out.getvalue()
    assert "job_id" not in third and third["level"] == "warning"


def test_text_format_appends_the_job_fields(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", out)
    with about_job(make_job("j-log-2")):
        logging.getLogger("imabot.test").info("hello")
    assert out.getvalue().rstrip().endswith("]") and "job_id=j-log-2 platform=console" in out.getvalue()


def test_default_format_follows_the_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert default_format(Tty()) == "text"
    assert default_format(io.StringIO()) == "json"


def test_a_format_with_a_query_before_its_placeholder_still_prints(
        restore_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Redaction works on the rendered line: a query in the format string no longer eats a ``%s``."""
    out = io.StringIO()
    configure_logging("INFO", "text", out)
    install_log_redaction(KEY)
    logging.getLogger("httpx").info("GET https://up.test/t?appUid=%s&n=%d -> %s", KEY, 3, "200 OK")
    logging.getLogger("httpx").info("retrying? %s of %s", 2, 5)
    text = out.getvalue()
    assert "GET https://up.test/t -> 200 OK" in text
    assert "retrying? 2 of 5" in text
    assert KEY not in text and "appUid" not in text
    assert "Logging error" not in capsys.readouterr().err
