"""Run the simulator on a real loopback socket (uvicorn on the current event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import uvicorn

from adapters.embedded_http import EmbeddedServer, listen_socket, url_of, wait_started
from core.clock import Clock
from core.net import is_loopback_host
from sim.app import create_app
from sim.config import SimConfig
from sim.responses import SimulatedResetError


class RemoteHostRefusedError(ValueError):
    """The simulator only listens on loopback unless explicitly allowed."""


class _SimulatedResetFilter(logging.Filter):
    """Drops what the simulator does on purpose: a reset fault ends a response; at shutdown a request
    still held by a delay fault (a long create) is cancelled. Neither is an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SimulatedResetError | asyncio.CancelledError):
            return False
        return not record.getMessage().startswith(_SHUTDOWN_CANCEL)


_SHUTDOWN_CANCEL = "Cancel "  # uvicorn: "Cancel N running task(s), timeout graceful shutdown exceeded"


def bind(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    if not allow_remote and not is_loopback_host(host):
        raise RemoteHostRefusedError(f"refusing to listen on non-loopback host {host!r} (use --allow-remote)")
    return listen_socket(host, port)


def make_server(config: SimConfig, base_url: str, *, clock: Clock | None = None, rewrite_urls: bool = True,
                embedded: bool = True) -> uvicorn.Server:
    if rewrite_urls:
        config = replace(config, public_base_url=base_url, upload_base_url=base_url)
    app = create_app(config, clock=clock)
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _SimulatedResetFilter) for f in error_log.filters):
        error_log.addFilter(_SimulatedResetFilter())
    server_config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
                                   timeout_graceful_shutdown=2)
    return EmbeddedServer(server_config) if embedded else uvicorn.Server(server_config)


@contextlib.asynccontextmanager
async def run_in_background(config: SimConfig, host: str = "127.0.0.1", port: int = 0, *,
                            clock: Clock | None = None, rewrite_urls: bool = True,
                            allow_remote: bool = False) -> AsyncIterator[str]:
    """Serve the simulator while the block runs; yields its base URL (``http://127.0.0.1:PORT``).

    With ``rewrite_urls`` (default) the media / fdl / ful URLs point at this server."""
    sock = bind(host, port, allow_remote=allow_remote)
    base_url = url_of(sock)
    server = make_server(config, base_url, clock=clock, rewrite_urls=rewrite_urls)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_started(server, task)
        yield base_url
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
