"""``imabot demo``: zero-config terminal chat against a local IMA simulator (no key, no credits).

Starts the simulator on loopback with a time-lapse clock (a ~6-minute video arrives in ~15 s), a
fresh SQLite file under the data dir, and a chat where you type requests and attach local files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from adapters.chat.texts import chat_messages
from adapters.console import MESSAGES_PACKAGE as CONSOLE_MESSAGES
from adapters.console.chat import ConsoleChat, stdin_lines
from adapters.console.prompt import output_above_prompt, prompt_lines
from adapters.console.sink import ConsoleSink
from bot.settings import Settings
from bot.sim_mode import TimeLapseClock, command_settings, local_simulator, positive_speed, with_data_dir
from bot.wiring import build_app
from core.types import Language, Platform
from sim.faults import FaultSpec

DEFAULT_SPEED = 24.0
DEMO_DB = "demo.sqlite3"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim-fault", action="append", default=[], metavar="SPEC",
                        help="simulator fault to preview failure messages, e.g. task:rs=2:once (repeatable)")
    parser.add_argument("--speed", type=positive_speed, default=DEFAULT_SPEED,
                        help="how many times faster than real time generation runs (default %(default)s)")
    parser.add_argument("--language", choices=["zh", "en"], help="language of the banner and default replies")
    parser.add_argument("--data-dir", type=Path, help="demo database folder (default: <data_dir>/demo)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    setup = command_settings("demo", args)
    if setup is None:
        return 2
    settings, faults = setup
    banner = [Language(args.language)] if args.language else [Language.ZH, Language.EN]
    data_dir = args.data_dir or settings.storage.data_dir / "demo"
    settings = with_data_dir(settings, data_dir)
    settings.storage.db_file = DEMO_DB
    try:
        return asyncio.run(_demo(settings, faults, args.speed, banner))
    except KeyboardInterrupt:
        print()
        return 130


def _fresh_database(path: Path) -> None:
    # The simulator forgets its tasks when it stops, so a demo session never resumes old jobs.
    # An unusable data dir is reported (one line) when the database is opened.
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _demo(settings: Settings, faults: tuple[FaultSpec, ...], speed: float,
                banner: list[Language]) -> int:
    await asyncio.to_thread(_fresh_database, settings.storage.db_path)
    messages = chat_messages(None, CONSOLE_MESSAGES)
    language = banner[0] if len(banner) == 1 else Language(settings.bot.default_language)
    clock = TimeLapseClock(speed)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()  # read now: a stdin pipe closes at its end
    async with local_simulator(settings, clock, faults) as sim, build_app(
            sim, clock=clock, simulator_url=sim.ima.base_url) as app:
        with _terminal(interactive):  # from here on sys.stdout prints above the input line
            sink = ConsoleSink(sys.stdout, messages, tty=False if interactive else None)
            app.context.sinks[Platform.CONSOLE] = sink
            await app.start()
            chat = ConsoleChat(app.conversation, messages, sys.stdout, language=language,
                               banner_languages=banner, on_request=sink.remember_prompt)
            lines = prompt_lines(settings.storage.data_dir / "history") if interactive else stdin_lines()
            ended_by_eof = await chat.run(lines)
            if ended_by_eof and app.service.active_jobs and not interactive:
                print(messages.text("console.waiting", chat.language), flush=True)
                await app.service.wait_idle()
            if ended_by_eof:
                print(messages.text("console.bye", chat.language), flush=True)
    return 0


def _terminal(interactive: bool) -> contextlib.AbstractContextManager[None]:
    return output_above_prompt() if interactive else contextlib.nullcontext()
