"""``imabot demo`` as a newcomer uses it: a real terminal (pty), typing a request, reading the
transcript, then /quit. High speed-up keeps it fast."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMABOT = Path(sys.executable).parent / "imabot"
# Printed as the prompt takes the keyboard (bracketed paste on). While output is printed above the
# prompt, prompt_toolkit puts the terminal back in its ordinary mode for a moment (``run_in_terminal``),
# where a control key typed just then is echoed as it is; a person presses one once the prompt is back.
PROMPT_ACTIVE = "\x1b[?2004h"


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                     close_fds=True)
        os.close(slave)
        self.transcript = ""

    def read_until(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.transcript:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; transcript:\n{self.transcript}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
                self.transcript += chunk.decode("utf-8", errors="replace")
        if needle not in self.transcript:
            raise AssertionError(f"{needle!r} never appeared; transcript:\n{self.transcript}")
        return self.transcript

    def read_more(self, seconds: float) -> None:
        """Whatever the terminal prints within ``seconds`` (a bound, not a sleep: returns on output)."""
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            with contextlib.suppress(OSError):
                self.transcript += os.read(self.master, 65536).decode("utf-8", errors="replace")

    def wait_for_prompt_after(self, text: str, timeout: float = 10.0) -> None:
        """Until the prompt has the keyboard again after ``text`` was printed (a person presses a
        control key once it is back)."""
        deadline = time.monotonic() + timeout
        while PROMPT_ACTIVE not in self.transcript.rsplit(text, 1)[-1]:
            assert time.monotonic() < deadline, f"the prompt did not come back after {text!r}"
            self.read_more(0.2)

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.close(self.master)


@pytest.mark.skipif(not IMABOT.exists(), reason="imabot entry point not installed")
def test_newcomer_types_a_request_sees_progress_in_place_and_quits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA", "DISCORD", "FEISHU"))}
    env["IMABOT_STORAGE__DATA_DIR"] = str(tmp_path / "data")
    term = Terminal([str(IMABOT), "demo", "--language", "en", "--speed", "300"], env)
    try:
        term.read_until("/quit to leave")
        term.type("a corgi running on the beach, video")
        term.read_until("🔗 Video link (copy & share):")
        term.type("/quit")
        term.read_until("Bye")
    finally:
        code = term.close()
    out = term.transcript
    assert code == 0
    assert "OK! Let me make that video for you" in out
    assert "Starting video generation" in out and "Credits:" in out
    assert "⏳ Generating video…" in out  # printed above the input line (see test_console_pty.py)
    assert "✅ Your video is ready!" in out
    assert "🔗 Video link (copy & share):\r\nhttp://127.0.0.1:" in out
    assert (tmp_path / "data" / "demo" / "demo.sqlite3").exists()
    assert "Traceback" not in out


@pytest.mark.skipif(not IMABOT.exists(), reason="imabot entry point not installed")
def test_ctrl_d_exits_cleanly_and_a_fault_previews_a_failure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA", "DISCORD", "FEISHU"))}
    env["IMABOT_STORAGE__DATA_DIR"] = str(tmp_path / "data")
    term = Terminal([str(IMABOT), "demo", "--language", "zh", "--speed", "300", "--sim-fault",
                     "task:rs=2:once"], env)
    try:
        term.read_until("/quit 退出")
        term.type("画一只可爱的橘猫")
        term.read_until("需要我帮你重试吗？")  # a created task failed: a new try is charged again
        term.wait_for_prompt_after("需要我帮你重试吗？")
        os.write(term.master, b"\x04")  # Ctrl-D
        term.read_until("再见")
    finally:
        code = term.close()
    assert code == 0
    assert "❌ 图片生成失败" in term.transcript and "Traceback" not in term.transcript
