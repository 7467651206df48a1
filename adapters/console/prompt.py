"""Interactive input for ``imabot demo`` on a real terminal (prompt_toolkit): the line being typed stays
at the bottom while progress and results print above it (``patch_stdout``), ↑/↓ recall earlier lines,
Ctrl-L clears the screen, Ctrl-D on an empty line ends the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

PROMPT = "> "


async def prompt_lines(history_file: Path | None = None) -> AsyncIterator[str]:
    history: History = InMemoryHistory()
    if history_file is not None:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        history = FileHistory(str(history_file))
    session: PromptSession[str] = PromptSession(history=history)
    while True:
        try:
            line = await session.prompt_async(PROMPT)
        except (EOFError, KeyboardInterrupt):
            return
        yield line + "\n"


@contextmanager
def output_above_prompt() -> Iterator[None]:
    """While active, everything written to ``sys.stdout`` is printed above the input line."""
    with patch_stdout(raw=True):
        yield
