"""``imabot`` command line. Each sub-command lives in ``bot/commands/<name>.py`` and exposes
``add_parser(subparsers)`` which registers itself with ``set_defaults(handler=...)``; a handler takes
the parsed namespace and returns the process exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from bot.errors import SettingsError

COMMANDS = ("demo", "generate", "run", "parse", "models", "sim", "discord", "jobs", "check")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imabot", description="AI video, image, music and speech bot")
    parser.add_argument("--config", help="path to a TOML config file (default: $IMABOT_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bot.commands.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
