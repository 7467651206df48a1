"""Step 3 on Feishu: put a finished result into the chat the way Feishu shows it best.

- video ≤ 30 MB: upload as ``file_type=mp4`` with its duration in ms plus a cover image, then a ``media``
  message (Feishu's inline player needs exactly that); larger or failing: a card with an open button;
- image ≤ 10 MB: upload, then an ``image`` message;
- music / speech: an ``audio`` message for opus, otherwise a ``file`` message.
Files are streamed from the result URL to a temp file and from there to Feishu; nothing is held whole
in memory. Whatever goes wrong here, the user still gets a way to open the result.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from adapters.feishu.api import FILE_MAX_BYTES, IMAGE_MAX_BYTES, FeishuApi
from adapters.feishu.cards import link_card
from adapters.feishu.download import download_to
from core.errors import ImabotError
from core.media.ports import MediaProbe, MediaTooLargeError
from core.messages import Messages
from core.platform import UxEvent
from core.types import MediaResult, MediaType

log = logging.getLogger(__name__)

# (msg_type, content, uuid suffix) -> message id
Poster = Callable[[str, Mapping[str, Any], str], Awaitable[str]]


class MediaDelivery:
    def __init__(self, api: FeishuApi, http: httpx.AsyncClient, messages: Messages,
                 probe: MediaProbe | None = None, temp_root: Path | None = None) -> None:
        self._api = api
        self._http = http
        self._messages = messages
        self._probe = probe
        self._temp_root = temp_root

    async def deliver(self, media: MediaResult, index: int, event: UxEvent, post: Poster) -> str:
        workdir: Path | None = None
        try:
            workdir = await asyncio.to_thread(_make_workdir, self._temp_root)
            return await self._deliver(media, index, event, post, workdir)
        except MediaTooLargeError as exc:
            limit_mb = exc.limit_bytes // (1024 * 1024)
            text = self._messages.text("feishu.result.too_large", event.language, limit_mb=limit_mb)
            return await self._link(media, index, event, post, text)
        except (ImabotError, OSError) as exc:
            log.warning("feishu delivery of job %s media %d fell back to a link: %r",
                        event.job_id, index, exc)
            return await self._link(media, index, event, post,
                                    self._messages.text("feishu.result.unavailable", event.language))
        finally:
            if workdir is not None:
                await asyncio.to_thread(_remove_tree, workdir)

    async def _deliver(self, media: MediaResult, index: int, event: UxEvent, post: Poster, workdir: Path
                       ) -> str:
        name = _file_name(media, index)
        if media.kind is MediaType.IMAGE:
            path = await download_to(self._http, media.url, workdir / name, IMAGE_MAX_BYTES)
            image_key = await self._api.upload_image(path)
            return await post("image", {"image_key": image_key}, f"m{index}")
        path = await download_to(self._http, media.url, workdir / name, FILE_MAX_BYTES)
        if media.kind is MediaType.VIDEO:
            duration_ms = await self._duration_ms(media, path)
            cover_key = await self._cover_key(media, path, workdir)
            file_key = await self._api.upload_file(path, "mp4", file_name=name, duration_ms=duration_ms)
            content = {"file_key": file_key, **({"image_key": cover_key} if cover_key else {})}
            return await post("media", content, f"m{index}")
        if path.suffix.lower() == ".opus":
            duration_ms = await self._duration_ms(media, path)
            file_key = await self._api.upload_file(path, "opus", file_name=name, duration_ms=duration_ms)
            return await post("audio", {"file_key": file_key}, f"m{index}")
        file_key = await self._api.upload_file(path, "stream", file_name=name)
        return await post("file", {"file_key": file_key}, f"m{index}")

    async def _duration_ms(self, media: MediaResult, path: Path) -> int | None:
        if media.duration_s:
            return round(media.duration_s * 1000)
        if self._probe is None:
            return None
        try:
            info = await self._probe.probe(path)
        except ImabotError:
            return None
        return round(info.duration_s * 1000) if info.duration_s else None

    async def _cover_key(self, media: MediaResult, video: Path, workdir: Path) -> str | None:
        """A cover makes a proper player bubble; without one Feishu still plays the video."""
        cover = workdir / "cover.jpg"
        try:
            if media.cover_url:
                await download_to(self._http, media.cover_url, cover, IMAGE_MAX_BYTES)
            elif self._probe is not None:
                await self._probe.extract_cover(video, cover)
            else:
                return None
            return await self._api.upload_image(cover)
        except ImabotError as exc:
            log.info("no cover for %s: %r", video.name, exc)
            return None

    async def _link(self, media: MediaResult, index: int, event: UxEvent, post: Poster, text: str) -> str:
        title = self._messages.text("feishu.card.title.success", event.language)
        card = link_card(title, text, media.url, event.language, self._messages)
        return await post("interactive", card, f"l{index}")


def _file_name(media: MediaResult, index: int) -> str:
    suffix = Path(urlparse(media.url).path).suffix.lower()
    if not suffix or len(suffix) > 6:
        fallback = {MediaType.VIDEO: ".mp4", MediaType.IMAGE: ".png"}.get(media.kind, ".mp3")
        suffix = "." + media.format.lower() if media.format else fallback
    return f"result-{index + 1}{suffix}"


def _make_workdir(root: Path | None) -> Path:
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="imabot-feishu-", dir=root))


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        child.unlink(missing_ok=True)
    path.rmdir()
