"""``imabot generate --sim`` ends quietly: when its built-in simulator shuts down while a long create is
still being answered (the client gave up first), stderr carries no ``CancelledError`` traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_generate_sim_after_a_long_create_exits_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[ima]\nrequest_timeout_s = 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA_", "IMABOT_"))}
    # create:delay=120 holds the create 120 virtual s (5 real s at speed 24); the client gives up after 1 s.
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), "generate", "--sim",
                           "--sim-fault", "create:delay=120", "a cat playing the piano"],
                          cwd=tmp_path, env=env, text=True, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "CancelledError" not in proc.stderr
    assert proc.stderr.strip() == ""
    assert "creation record" in proc.stdout
