"""Event intake over lark-oapi's long connection (``lark_oapi.ws.Client``): no public URL needed.

This is the one place the bot runs a thread of its own, because the SDK forces it: ``ws.Client.start()``
blocks forever on an event loop stored in the module global ``lark_oapi.ws.client.loop`` (created at
import time) and fails inside an already running loop. So the client gets a private thread with a fresh
loop installed in that global. Handlers then run on that thread and only hand work to the main loop
(see ``dispatcher``). The SDK has no public ``stop()``: closing cancels the SDK's tasks on its loop,
closes the socket and lets the thread end. Only one long connection can run per process (the SDK global).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import lark_oapi as lark
import lark_oapi.ws.client as ws_module

from core.errors import ErrorKind, PlatformError

log = logging.getLogger(__name__)
JOIN_TIMEOUT_S = 5.0


class LongConnection:
    def __init__(self, app_id: str, app_secret: str, domain: str, dispatcher: Any) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._domain = domain.rstrip("/")
        self._dispatcher = dispatcher
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._ready = threading.Event()

    async def start(self) -> None:
        current = getattr(ws_module, "loop", None)
        if current is not None and current.is_running() and current is not asyncio.get_running_loop():
            raise PlatformError("another Feishu long connection is already running in this process",
                                kind=ErrorKind.INTERNAL)
        self._thread = threading.Thread(target=self._run, name="feishu-long-connection", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait, JOIN_TIMEOUT_S)

    @property
    def connected(self) -> bool:
        """The SDK holds an open socket (it drops it while reconnecting)."""
        conn = getattr(self._client, "_conn", None) if self._client is not None else None
        return conn is not None and not getattr(conn, "closed", False)

    async def aclose(self) -> None:
        loop, client, thread = self._loop, self._client, self._thread
        if loop is not None and client is not None and loop.is_running():
            try:
                done = asyncio.run_coroutine_threadsafe(_shutdown(client), loop)
                await asyncio.wait_for(asyncio.wrap_future(done), JOIN_TIMEOUT_S)
            except Exception as exc:  # already gone, or the loop stopped meanwhile
                log.debug("feishu long connection shutdown: %r", exc)
        if thread is not None:
            await asyncio.to_thread(thread.join, JOIN_TIMEOUT_S)
        self._thread = self._loop = self._client = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ws_module.loop = loop
        self._loop = loop
        try:
            # WARNING level: the SDK logs the connection URL (with its ticket) at INFO.
            self._client = ws_module.Client(self._app_id, self._app_secret, event_handler=self._dispatcher,
                                            domain=self._domain, log_level=lark.LogLevel.WARNING)
        finally:
            self._ready.set()
        try:
            self._client.start()
        except (RuntimeError, asyncio.CancelledError):
            pass  # our aclose(): the SDK's forever-task was cancelled
        except Exception as exc:
            # The SDK's own exceptions carry Feishu's code and message (e.g. long connection not enabled
            # in the console); others are named only, as their text may hold the signed socket URL.
            code = getattr(exc, "code", None)
            detail = f"{exc}" if code is not None else type(exc).__name__
            log.error("feishu long connection ended: %s (check the app's event subscription mode)", detail)
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()


async def _shutdown(client: Any) -> None:
    """On the SDK's loop: stop its tasks (receive, ping, the forever-wait in ``start``), then close the
    socket. Cancelling first keeps the SDK from logging the close as an error or reconnecting."""
    client._auto_reconnect = False
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if client._conn is not None:
        await client._conn.close()
        client._conn = None
