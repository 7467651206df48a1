"""Several ``imabot run`` processes on one PostgreSQL, fed Feishu webhook events by a "load balancer":
what the chaos test (tests/test_chaos_replicas.py) and the throughput benchmark (bench/replicas.py) share.

Each replica is a child process (``python -m bot.cli run``) with its own TOML file and log, against an
``imabot sim`` process and the in-process Feishu fake. Linux only (CPU time is read from /proc)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.feishu_fake.events import message_event
from tests.feishu_fake.server import FakeFeishu
from tests.feishu_fake.webhook_client import encrypt, signed_headers, with_token
from tests.test_run_subprocess import IMAGE_MODEL, _clean_env, _free_port

REPO = Path(__file__).resolve().parents[2]
TERMINAL = ("done", "failed", "cancelled", "timed_out")
_TRANSITION = re.compile(r"job (\w+): (\w+) -> (\w+)")
_TICKS = os.sysconf("SC_CLK_TCK")


class ReplicaError(AssertionError):
    """A replica exited by itself or never became ready (the message ends with its log)."""


@contextlib.contextmanager
def fresh_database(postgres_url: str, name: str) -> Iterator[str]:
    """A new database ``name`` on the server at ``postgres_url`` for as long as the context lasts."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url.replace("/postgres?", f"/{name}?", 1)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 on), or [] when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def parent_of(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def cpu_seconds(pid: int, *, tree: bool = False) -> float:
    """User + system CPU time of process ``pid`` so far (0 when it is gone); with ``tree``, also of its
    descendants, living (their own time) or reaped (in their parent's cutime/cstime)."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    own = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    if not tree:
        return own / _TICKS
    reaped = int(fields[13]) + int(fields[14])  # cutime, cstime
    return (own + reaped) / _TICKS + sum(cpu_seconds(c, tree=True) for c in children(pid))


@dataclass
class Replica:
    index: int
    port: int
    workdir: Path
    lease_s: float = 2.0
    pool_size: int = 10  # PostgreSQL connections per replica (the production default)
    incarnation: int = 0
    up: bool = False
    proc: asyncio.subprocess.Process | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def replica_id(self) -> str:
        return f"r{self.index}-{self.incarnation}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.logs[-1].read_text(errors="replace")[-chars:] if self.logs else ""

    async def start(self, sim_url: str, db_url: str, fake: FakeFeishu) -> None:
        config = self.workdir / f"imabot-{self.replica_id}.toml"
        config.write_text(f"""
[ima]
base_url = "{sim_url}"
upload_base_url = "{sim_url}/"

[storage]
data_dir = "{self.workdir / 'data'}"
url = "{db_url}"
lease_s = {self.lease_s}
replica_id = "{self.replica_id}"
pool_size = {self.pool_size}

[bot]
default_language = "en"
default_media_type = "image"

[catalog]
estimated_seconds = {{ "{IMAGE_MODEL}" = [1, 2] }}

[ops]
port = 0

[discord]
enabled = false

[feishu]
domain = "{fake.base_url}/"
intake = "webhook"
webhook_port = {self.port}
patch_interval_s = 0.5
""", encoding="utf-8")
        log = self.workdir / f"{self.replica_id}.log"
        self.logs.append(log)
        secrets = {"FEISHU_APP_ID": fake.app_id, "FEISHU_APP_SECRET": "secret", "FEISHU_ENCRYPT_KEY": "ek",
                   "FEISHU_VERIFICATION_TOKEN": "vt"}
        with log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=REPO, stdout=out,
                stderr=out, env=_clean_env(**secrets))

    async def ready(self, within_s: float = 60.0) -> None:
        """Until the webhook listener accepts connections (fails with the log if the process exits)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.returncode is not None:
                raise ReplicaError(f"replica {self.replica_id} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                self.up = True
                return
            await asyncio.sleep(0.1)
        raise ReplicaError(f"replica {self.replica_id} not ready:\n{self.log_tail(3000)}")

    def cpu_s(self) -> float:
        return cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    async def kill(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise ReplicaError(f"replica {self.replica_id} exited by itself ({self.proc.returncode}):\n"
                                f"{self.log_tail()}")
        self.up = False
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.incarnation += 1

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


def cut_while_submitting(group: list[Replica]) -> set[str]:
    """Jobs whose last state written by some replica process was SUBMITTING: that process recorded that
    a create request may leave and never recorded the outcome (it was killed, or stalled past its lease
    so that another replica took the job over and its own save was refused). From every log."""
    cut: set[str] = set()
    for log in (log for r in group for log in r.logs if log.exists()):
        last: dict[str, str] = {}
        for m in _TRANSITION.finditer(log.read_text(errors="replace")):
            last[m.group(1)] = m.group(3)
        cut.update(job_id for job_id, state in last.items() if state == "submitting")
    return cut


@contextlib.asynccontextmanager
async def replicas(count: int, workdir: Path, sim_url: str, db_url: str, fake: FakeFeishu, *,
                   lease_s: float = 2.0) -> AsyncIterator[list[Replica]]:
    """``count`` replicas started together and ready; stopped with SIGTERM at the end."""
    group = [Replica(i, _free_port(), workdir / f"r{i}", lease_s=lease_s) for i in range(count)]
    try:
        for r in group:
            r.workdir.mkdir(parents=True, exist_ok=True)
            await r.start(sim_url, db_url, fake)
        await asyncio.gather(*(r.ready() for r in group))
        yield group
    finally:
        await asyncio.gather(*(r.stop() for r in group))


def event_body(fake: FakeFeishu, i: int, prefix: str = "chaos") -> bytes:
    """An encrypted Feishu webhook body: a DM asking for picture ``#i`` (its own chat and user)."""
    event = message_event(text=f"画一只可爱的橘猫 #{i}", chat_type="p2p", chat_id=f"oc_{i}", user=f"ou_{i}",
                          message_id=f"om_{prefix}_{i}", event_id=f"ev_{prefix}_{i}", mention_bot=False,
                          app_id=fake.app_id)
    return encrypt(with_token(event, "vt"), "ek")


async def post_anywhere(http: httpx.AsyncClient, group: list[Replica], body: bytes, first: int) -> int:
    """The load balancer: the first replica (from ``first`` on) that answers 200 takes the event;
    returns its index."""
    while True:
        for k in range(len(group)):
            r = group[(first + k) % len(group)]
            try:
                response = await http.post(f"http://127.0.0.1:{r.port}/feishu/events", content=body,
                                           headers=signed_headers(body, "ek"), timeout=5.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return r.index
        await asyncio.sleep(0.05)


async def query(db_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        cur = await conn.execute(sql, args)
        return list(await cur.fetchall())
