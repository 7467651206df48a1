"""Every broken set-up an operator can meet at start: ``imabot run`` as a separate process ends within a
bounded wait with exit 2 and ONE line on stderr naming the key / file / folder and the fix; never a
traceback, never a hang (a corrupt database used to print a traceback and then never exit)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WAIT_S = 60.0


@dataclass(frozen=True)
class Broken:
    name: str
    config: str  # TOML; {data} is replaced by the data folder
    expected: tuple[str, ...]  # substrings of the one line
    prepare: Callable[[Path], None] = lambda data: None
    key: str = "ima_startup_test_key"


def _corrupt(data: Path) -> None:
    data.mkdir(parents=True)
    (data / "imabot.sqlite3").write_bytes(b"this is not a database" * 400)


def _foreign(data: Path) -> None:
    data.mkdir(parents=True)
    conn = sqlite3.connect(data / "imabot.sqlite3")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()


def _file_instead_of_folder(data: Path) -> None:
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("not a folder")


CASES = (
    Broken("unknown key", '[bot]\ndefualt_language = "en"\n',
           ("unknown key [bot] defualt_language", "did you mean 'default_language'")),
    Broken("unknown section", "[feishuu]\nenabled = false\n",
           ("unknown key 'feishuu'", "did you mean 'feishu'")),
    Broken("negative timeout", "[ima]\nrequest_timeout_s = -1\n",
           ("[ima] request_timeout_s = -1", "greater than 0")),
    Broken("zero jobs", "[bot]\nmax_concurrent_jobs = 0\n",
           ("[bot] max_concurrent_jobs = 0", "greater than or equal to 1")),
    Broken("word for a number", '[discord]\nedit_interval_s = "fast"\n',
           ("[discord] edit_interval_s = 'fast'", "valid number")),
    Broken("unsupported language", '[bot]\ndefault_language = "fr"\n',
           ("[bot] default_language = 'fr'", "'zh' or 'en'")),
    Broken("not TOML", "[bot\n", ("is not valid TOML",)),
    Broken("key without ima_ prefix", "", ("IMA_API_KEY does not look like an IMA Open API key", "ima_"),
           key="sk-live-123"),
    Broken("data dir is a file", "[storage]\ndata_dir = '{data}'\n", ("is a file", "[storage] data_dir"),
           prepare=_file_instead_of_folder),
    Broken("data dir under a file", "[storage]\ndata_dir = '{data}/sub'\n",
           ("/data/sub is under", "which is a file"), prepare=_file_instead_of_folder),
    Broken("corrupt database", "[storage]\ndata_dir = '{data}'\n",
           ("imabot.sqlite3 is damaged or not a SQLite file", "move it away"), prepare=_corrupt),
    Broken("foreign database", "[storage]\ndata_dir = '{data}'\n",
           ("imabot.sqlite3 belongs to another program", "invoices"), prepare=_foreign),
)


def _env(key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("IMA_", "IMABOT_", "DISCORD_", "FEISHU_"))}
    env.update(IMA_API_KEY=key, PYTHONUNBUFFERED="1")
    return env


def _run(argv: list[str], cwd: Path, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=cwd, env=_env(key), text=True,
                          capture_output=True, timeout=WAIT_S, check=False)


def _assert_one_line(proc: subprocess.CompletedProcess[str], expected: tuple[str, ...]) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for part in expected:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_setup_is_one_line_and_exit_2(case: Broken, tmp_path: Path) -> None:
    data = tmp_path / "data"
    case.prepare(data)
    config = tmp_path / "config.toml"
    config.write_text(case.config.replace("{data}", str(data)))
    proc = _run(["--config", str(config), "run"], tmp_path, case.key)
    _assert_one_line(proc, case.expected)


def _read_only_prefix(folder: Path) -> list[str] | None:
    """How to run a command that sees ``folder`` read-only: permissions for ordinary users; for root
    (who ignores permissions) a read-only bind mount in a private mount namespace."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    remount = f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' '{folder}'"
    probe = subprocess.run([unshare, "-m", "sh", "-c", remount], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    return [unshare, "-m", "sh", "-c", remount + ' && exec "$0" "$@"']


def test_read_only_data_dir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    prefix = _read_only_prefix(data)
    if prefix is None:
        pytest.skip("cannot make a folder read-only for root here (no unshare / mount)")
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ndata_dir = '{data}'\n")
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
                              cwd=tmp_path, env=_env("ima_startup_test_key"), text=True, capture_output=True,
                              timeout=WAIT_S, check=False)
    finally:
        data.chmod(0o755)
    _assert_one_line(proc, (f"data dir {data} is not writable", "[storage] data_dir"))


def test_demo_with_a_file_for_its_data_dir_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = data / "demo"
    _file_instead_of_folder(demo)
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ndata_dir = '{data}'\n")
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), "demo"], cwd=tmp_path,
                          env=_env("ima_x"), text=True, capture_output=True, timeout=WAIT_S, check=False,
                          input="")
    _assert_one_line(proc, (f"data dir {demo} is a file",))
