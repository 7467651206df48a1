"""``imabot`` command line, imported per sub-command.

Every sub-command is a row of ``COMMANDS``: its one-line help, the module under ``bot/commands/`` that
implements it and that module's function which adds the command's arguments to the parser made for it
here (``configure(parser)`` by default) and registers ``set_defaults(handler=...)``; a handler takes the
parsed namespace and returns the process exit code. Only the chosen sub-command's module is imported,
so ``imabot parse`` never pays for discord.py, lark_oapi, PyAV or the simulator. A command module may
import at its top what that command always needs; anything only some of its paths need is imported
where it is used. To add a command: one row here, one module (or one more function in a module).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from bot.errors import SettingsError


class Command(NamedTuple):
    help: str
    module: str
    configure: str = "configure"


COMMANDS: dict[str, Command] = {
    "demo": Command("chat with the bot in this terminal (local simulator)", "demo"),
    "generate": Command("run one generation request end to end", "generate"),
    "run": Command("run the bot on the configured platforms (Discord, Feishu)", "run"),
    "parse": Command("parse a chat message into a generation request", "parse"),
    "models": Command("list IMA models per task type", "models"),
    "sim": Command("run the local IMA API simulator (for demos and tests)", "sim"),
    "discord": Command("Discord tools (register slash commands)", "discord"),
    "jobs": Command("list jobs from the bot's database (newest first)", "jobs", "configure_jobs"),
    "job": Command("one job's whole history: states, quote, IMA task, deliveries", "jobs", "configure_job"),
    "usage": Command("jobs and points per day, chat and user", "jobs", "configure_usage"),
    "admin": Command("spend administration: usage report, budgets, pause / resume a chat, jobs", "admin"),
    "check": Command("check config, IMA key, platforms, database and ops port before going live", "check"),
    "health": Command("exit 0 when this host's imabot run answers /healthz (container health check)",
                      "check", "configure_health"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser for ``command`` (its module imported); every other sub-command is only named,
    so the top-level help still lists them all."""
    parser = argparse.ArgumentParser(prog="imabot", description="AI video, image, music and speech bot")
    parser.add_argument("--config", help="path to a TOML config file (default: $IMABOT_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, row in COMMANDS.items():
        chosen = name == command
        command_parser = sub.add_parser(name, help=row.help, description=row.help, add_help=chosen)
        if chosen:
            module = importlib.import_module(f"bot.commands.{row.module}")
            getattr(module, row.configure)(command_parser)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (None when there is none), without importing any of them."""
    known, _rest = build_parser().parse_known_args(argv)
    command: str | None = known.command
    return command


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv))
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except SettingsError as exc:  # a set-up problem any command may meet late (e.g. the database)
        print(f"imabot {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
