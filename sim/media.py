"""``GET /_sim/media/<name>``: generated results, made lazily off the event loop and cached."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sim import media_gen
from sim.responses import injected_response
from sim.state import sim_state

CACHE_ENTRIES = 32
MAX_BIG_MB = 512
MAX_SIDE = 4096
MAX_SECONDS = 30
_CHUNK = 1 << 20
_PATTERNS: tuple[tuple[re.Pattern[str], str, Callable[..., bytes]], ...] = (
    (re.compile(r"video-(\d{2,4})x(\d{2,4})-(\d{1,2})s\.mp4"), "video/mp4", media_gen.make_mp4),
    (re.compile(r"cover-(\d{2,4})x(\d{2,4})\.jpg"), "image/jpeg", media_gen.make_jpeg),
    (re.compile(r"image-(\d{2,4})x(\d{2,4})\.png"), "image/png", media_gen.make_png),
    (re.compile(r"audio-(\d{1,2})s\.wav"), "audio/wav", media_gen.make_wav),
    (re.compile(r"audio-(\d{1,2})s\.mp3"), "audio/mpeg", media_gen.make_mp3),
)
_BIG_BASE = "video-320x180-2s.mp4"


def _sane(args: list[int]) -> bool:
    """Dimensions are even (H.264 needs it) and bounded; durations are short."""
    if len(args) == 1:
        return 0 < args[0] <= MAX_SECONDS
    width, height, *rest = args
    dims_ok = all(0 < d <= MAX_SIDE and d % 2 == 0 for d in (width, height))
    return dims_ok and all(0 < s <= MAX_SECONDS for s in rest)


class MediaStore:
    """Bounded in-memory cache of generated files, keyed by name."""

    def __init__(self) -> None:
        self._files: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, name: str) -> tuple[bytes, str] | None:
        for pattern, content_type, make in _PATTERNS:
            match = pattern.fullmatch(name)
            if match is None:
                continue
            args = [int(g) for g in match.groups()]
            if not _sane(args):
                return None
            lock = self._locks.setdefault(name, asyncio.Lock())
            async with lock:
                if name not in self._files:
                    content = await asyncio.to_thread(make, *args)
                    self._files[name] = (content, content_type)
                    while len(self._files) > CACHE_ENTRIES:
                        evicted, _ = self._files.popitem(last=False)
                        self._locks.pop(evicted, None)
                self._files.move_to_end(name)
                return self._files[name]
        return None


async def _big(store: MediaStore, megabytes: float) -> Response:
    base = await store.get(_BIG_BASE)
    assert base is not None
    head = base[0]
    total = max(len(head) + 8, int(megabytes * 1024 * 1024))
    padding = total - len(head)

    async def body() -> AsyncIterator[bytes]:
        yield head + media_gen.mp4_free_box(padding)
        remaining = padding - 8
        zeros = bytes(_CHUNK)
        while remaining > 0:
            size = min(_CHUNK, remaining)
            yield zeros if size == _CHUNK else bytes(size)
            remaining -= size

    return StreamingResponse(body(), media_type="video/mp4", headers={"content-length": str(total)})


async def serve_media(request: Request) -> Response:
    state = sim_state(request)
    state.calls["media"] += 1
    if (faulted := await injected_response(state, "media")) is not None:
        return faulted
    store: MediaStore = request.app.state.media
    name = request.path_params["name"]
    if name == "big.mp4":
        try:
            megabytes = float(request.query_params.get("mb", "40"))
        except ValueError:
            return Response("bad mb", status_code=400)
        if not 0 < megabytes <= MAX_BIG_MB:
            return Response("mb out of range", status_code=400)
        return await _big(store, megabytes)
    found = await store.get(name)
    if found is None:
        return Response("not found", status_code=404)
    content, content_type = found
    return Response(content, media_type=content_type)


ROUTES = [Route("/_sim/media/{name}", serve_media, methods=["GET"])]
