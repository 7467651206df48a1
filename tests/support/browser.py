"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol with aiohttp: open a page,
evaluate JavaScript, take a screenshot. Tests that need it skip when no browser is installed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-port=0",
         "--remote-allow-origins=*")
START_S = 30.0
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def chromium_path() -> str | None:
    explicit = os.environ.get("IMABOT_TEST_CHROMIUM")
    for name in ((explicit,) if explicit else CANDIDATES):
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One tab, attached through a flat DevTools session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        self._ws = ws
        self._session = session_id
        self._ids = itertools.count(1000)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await _call(self._ws, self._ids, method, params, self._session)

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                                awaitPromise=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"page script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screenshot(self, path: Path) -> None:
        data = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data["data"]))


@contextlib.asynccontextmanager
async def open_page(url: str, profile: Path, width: int = 1280, height: int = 900) -> AsyncIterator[Page]:
    executable = chromium_path()
    assert executable is not None, "no chromium: the caller should have skipped"
    proc = await asyncio.create_subprocess_exec(
        executable, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        endpoint = await asyncio.wait_for(_devtools_endpoint(proc, profile), START_S)
        async with aiohttp.ClientSession() as http, http.ws_connect(endpoint, max_msg_size=0) as ws:
            ids = itertools.count(1)
            target = await _call(ws, ids, "Target.createTarget", {"url": "about:blank"})
            attached = await _call(ws, ids, "Target.attachToTarget", {"targetId": target["targetId"],
                                                                      "flatten": True})
            page = Page(ws, attached["sessionId"])
            await page.send("Page.enable")
            await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                            deviceScaleFactor=1, mobile=False)
            await page.send("Page.navigate", url=url)
            await page.evaluate("new Promise(r => document.readyState === 'complete' ? r(1) : "
                                "addEventListener('load', () => r(1)))")
            yield page
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _devtools_endpoint(proc: asyncio.subprocess.Process, profile: Path) -> str:
    """Chromium writes its DevTools port and browser path to ``DevToolsActivePort`` in the profile."""
    marker = profile / "DevToolsActivePort"
    while True:
        if proc.returncode is not None:
            raise AssertionError(f"chromium exited ({proc.returncode}) before opening DevTools")
        text = await asyncio.to_thread(lambda: marker.read_text() if marker.exists() else "")
        lines = text.split()
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        await asyncio.sleep(0.05)


async def _call(ws: aiohttp.ClientWebSocketResponse, ids: itertools.count[int], method: str,
                params: dict[str, Any], session_id: str | None = None) -> dict[str, Any]:
    message_id = next(ids)
    frame: dict[str, Any] = {"id": message_id, "method": method, "params": params}
    if session_id:
        frame["sessionId"] = session_id
    await ws.send_str(json.dumps(frame))
    while True:  # events arrive in between; single caller at a time, so the next reply with our id is ours
        reply = json.loads((await ws.receive()).data)
        if reply.get("id") == message_id:
            if "error" in reply:
                raise AssertionError(f"DevTools {method}: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result
