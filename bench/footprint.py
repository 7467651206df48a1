"""Footprint of the ``imabot`` processes (issue #17): ``imabot run`` with Discord only, against the fake
Discord of the test suite on loopback — time from process start to the gateway IDENTIFY, and its RSS
once idle — and the wall/CPU time of one ``imabot parse`` call.

``--repo DIR`` measures another checkout (e.g. an older commit, for a before/after) with this venv.
Run: ``.venv/bin/python -m bench.footprint [--runs 5]``. Reported, not asserted.

The checkout's bytecode is compiled first (as an installed package has it): with
``PYTHONDONTWRITEBYTECODE`` set and sources newer than their ``.pyc``, every start would compile the
changed modules again, and that is measured here as start-up time otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.discord_fake.server import FakeDiscord

IDLE_S = 5.0


def _env() -> dict[str, str]:
    prefixes = ("IMA_", "IMABOT_", "DISCORD_", "FEISHU_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, "IMA_API_KEY": "ima_footprint_bench_key", "DISCORD_BOT_TOKEN": "fake-bot-token"}


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def discord_only_run(repo: Path) -> tuple[float, float, float]:
    """(seconds to IDENTIFY, CPU seconds until then, idle RSS MB) of one ``imabot run``."""
    with tempfile.TemporaryDirectory(prefix="imabot-footprint-") as tmp:
        async with FakeDiscord() as fake:
            config = Path(tmp) / "imabot.toml"
            config.write_text(f'[ima]\nbase_url = "http://127.0.0.1:9"\n[storage]\ndata_dir = "{tmp}"\n'
                              f'[discord]\napi_base_url = "{fake.api_base_url}"\n'
                              f'gateway_url = "{fake.gateway_url}"\n'
                              '[ops]\nport = 0\n', encoding="utf-8")  # on, on a free port
            started = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=repo, env=_env(),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            try:
                await asyncio.wait_for(fake.identified.wait(), 60)
                identify_s = time.perf_counter() - started
                identify_cpu = _cpu_s(proc.pid)
                await asyncio.sleep(IDLE_S)
                rss = _rss_mb(proc.pid)
            finally:
                proc.terminate()
                await proc.wait()
    return identify_s, identify_cpu, rss


async def parse_call(repo: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one ``imabot parse`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "parse", "--json", "用可灵生成10秒竖屏视频，一只猫在弹钢琴",
        cwd=repo, env=_env(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def compile_bytecode(repo: Path) -> None:
    for package in ("core", "adapters", "bot", "sim"):
        compileall.compile_dir(repo / package, quiet=1)


async def main_async(repo: Path, runs: int) -> None:
    compile_bytecode(repo)
    print(f"repo {repo}; load average {os.getloadavg()[0]:.2f}")
    runs_out = [await discord_only_run(repo) for _ in range(runs)]
    identify, cpu, rss = ([r[i] for r in runs_out] for i in range(3))
    print(f"imabot run (Discord only): IDENTIFY after {statistics.median(identify):.2f} s wall "
          f"(min {min(identify):.2f}), {statistics.median(cpu):.2f} s CPU (min {min(cpu):.2f}); "
          f"idle RSS {statistics.median(rss):.0f} MB (min {min(rss):.0f})")
    parses = [await parse_call(repo) for _ in range(runs)]
    print(f"imabot parse: {statistics.median(p[0] for p in parses):.2f} s wall "
          f"(min {min(p[0] for p in parses):.2f}), {statistics.median(p[1] for p in parses):.2f} s CPU "
          f"(min {min(p[1] for p in parses):.2f}) per call")
    print(f"load average after {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.repo.resolve(), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
