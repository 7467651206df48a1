"""Every "run `imabot ...`" hint in the code, the message catalog and the README names a command and
flags that exist (``imabot run --sim`` was once suggested and did not)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
HINT = re.compile(r"`imabot ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)"
                  r"((?: --[a-z][a-z-]*(?: [A-Z0-9_.]+)?)*)[^`]*`")
SOURCES = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("adapters/**/*.py"), *ROOT.glob("core/**/*.py"),
           *ROOT.glob("core/data/messages/*.toml"), *ROOT.glob("adapters/**/*.toml"), ROOT / "README.md"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_hint_names_a_real_command_and_flags() -> None:
    commands = {name: _subparsers(build_parser(name))[name] for name in _subparsers(build_parser())}
    checked = 0
    for path in SOURCES:
        for found in HINT.finditer(path.read_text(encoding="utf-8")):
            words, flags = found.group(1).split(), re.findall(r"--[a-z][a-z-]*", found.group(2))
            name = words[0]
            assert name in commands, f"{path.relative_to(ROOT)}: `imabot {name}` is not a command"
            parser = commands[name]
            nested = _subparsers(parser)
            if nested and len(words) > 1:
                where = path.relative_to(ROOT)
                assert words[1] in nested, f"{where}: `imabot {name} {words[1]}` does not exist"
                parser = nested[words[1]]
            known = {opt for action in parser._actions for opt in action.option_strings}
            for flag in flags:
                assert flag in known, f"{path.relative_to(ROOT)}: `imabot {name}` has no {flag}"
            checked += 1
    assert checked >= 5
