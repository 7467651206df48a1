"""An ASGI app served by uvicorn on the caller's event loop, on a socket the caller bound.

Used by the simulator and by the ops server inside ``imabot run``: signals stay with the host program,
port 0 binds a free port (``url_of`` tells which), and ``wait_started`` returns once requests are served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """Leaves signal handling to the host program."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket (``OSError`` when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def wait_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """uvicorn exposes no startup event, only a flag."""
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during startup")
        await asyncio.sleep(0.01)
