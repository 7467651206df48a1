"""The demo console in a real terminal while jobs run: what the user is typing is never overwritten by
progress (it is redrawn below each update and arrives whole), ↑ recalls the last line, Ctrl-L clears the
screen instead of printing ^L, console-only texts follow the language the user writes in, and with two
jobs running each result is headed by an excerpt of its request."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.test_demo_pty import IMABOT, Terminal

UP = "\x1b[A"
CTRL_L = "\x0c"


def plain(text: str) -> str:
    """Terminal output without its escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text)


def wait_for_more(term: Terminal, needle: str, than: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while term.transcript.count(needle) <= than:
        assert time.monotonic() < deadline, f"no new {needle!r}; transcript:\n{term.transcript}"
        term.read_until(needle, timeout=max(0.1, deadline - time.monotonic()))
        if term.transcript.count(needle) <= than:
            term.read_more(0.2)


@pytest.mark.skipif(not IMABOT.exists(), reason="imabot entry point not installed")
def test_typing_while_progress_prints_history_ctrl_l_language_and_labels(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA", "DISCORD", "FEISHU"))}
    env["IMABOT_STORAGE__DATA_DIR"] = str(tmp_path / "data")
    # No --language: the banner is bilingual and the default language is Chinese until the user writes.
    term = Terminal([str(IMABOT), "demo", "--speed", "40"], env)
    try:
        term.read_until("/quit to leave")
        term.type("a corgi running on the beach, video")
        term.type("a cat playing the piano, video")
        term.read_until("⏳ Generating video")
        seen = term.transcript.count("⏳ Generating video")
        os.write(term.master, b"/image /nonexistent/ca")  # typing, not sent yet
        wait_for_more(term, "⏳ Generating video", seen)  # progress arrives while the line is half typed
        deadline = time.monotonic() + 10
        while "> /image /nonexistent/ca" not in plain(term.transcript.rsplit("⏳ Generating video", 1)[1]):
            assert time.monotonic() < deadline, "the half-typed line was not redrawn under the update"
            term.read_more(0.2)
        os.write(term.master, b"t.png\r")
        term.read_until("File not found: /nonexistent/cat.png")  # arrived whole, answered in English
        os.write(term.master, (UP + "\r").encode())  # history: the same line again
        wait_for_more(term, "File not found: /nonexistent/cat.png", 1)
        term.wait_for_prompt_after("File not found")
        os.write(term.master, CTRL_L.encode())
        term.read_until("\x1b[2J")  # the screen is cleared
        term.read_until('↳ "a corgi running on the beach, …"', timeout=60)
        term.read_until('↳ "a cat playing the piano, video"', timeout=60)
        term.type("/quit")
        term.read_until("Bye")
    finally:
        code = term.close()
    assert code == 0
    assert "^L" not in term.transcript and "Traceback" not in term.transcript
    assert "找不到文件" not in term.transcript  # console-only texts followed the user's English
    assert len(re.findall(r"🔗 Video link", term.transcript)) == 2
