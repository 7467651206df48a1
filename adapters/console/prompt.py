"""Interactive input for ``imabot demo`` on a real terminal (prompt_toolkit): the line being typed stays
at the bottom while progress and results print above it (``patch_stdout``), ↑/↓ recall earlier lines,
Ctrl-L clears the screen, Ctrl-D on an empty line ends the chat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import create_input
from prompt_toolkit.patch_stdout import patch_stdout

PROMPT = "> "


async def prompt_lines(history_file: Path | None = None) -> AsyncIterator[str]:
    """Lines as the user enters them. The terminal stays in raw mode from the first prompt to the last
    (each prompt alone would leave it between two prompts, where what the user types meanwhile is
    echoed as it is, Ctrl-L as "^L"), and the prompt is back at once after each line, even while the
    chat still handles the previous one."""
    history: History = InMemoryHistory()
    if history_file is not None:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        history = FileHistory(str(history_file))
    terminal = create_input()
    session: PromptSession[str] = PromptSession(history=history, input=terminal)
    entered: asyncio.Queue[str | None] = asyncio.Queue()

    async def read() -> None:
        try:
            while True:
                try:
                    line = await session.prompt_async(PROMPT)
                except (EOFError, KeyboardInterrupt):
                    return
                entered.put_nowait(line + "\n")
        finally:
            entered.put_nowait(None)

    with terminal.raw_mode():
        reader = asyncio.create_task(read())
        try:
            while (line := await entered.get()) is not None:
                yield line
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


@contextmanager
def output_above_prompt() -> Iterator[None]:
    """While active, everything written to ``sys.stdout`` is printed above the input line."""
    with patch_stdout(raw=True):
        yield
