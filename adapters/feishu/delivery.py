"""Step 3 on Feishu: put a finished result into the chat the way Feishu shows it best.

- video ≤ 30 MB: upload as ``file_type=mp4`` with its duration in ms plus a cover image, then a ``media``
  message (Feishu's inline player needs exactly that); larger or failing: a card with an open button;
- image ≤ 10 MB: upload, then an ``image`` message;
- music / speech: an ``audio`` message for opus, otherwise a ``file`` message;
- several results of one task (e.g. n images): ONE rich-text ``post`` holding every image and video
  (``img`` / ``media`` tags), with a link line for any that cannot be shown inline.
Files are streamed from the result URL to a temp file and from there to Feishu; nothing is held whole
in memory. Whatever goes wrong here, the user still gets a way to open the result.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from adapters.chat.delivery import DeliveryLimits, ResultFile, deliver_results
from adapters.chat.download import SafeResultDownloader
from adapters.chat.texts import chat_messages
from adapters.feishu import MESSAGES_PACKAGE
from adapters.feishu.api import FILE_MAX_BYTES, IMAGE_MAX_BYTES, FeishuApi
from adapters.feishu.cards import link_card
from core.errors import ImabotError
from core.media.ports import MediaProbe
from core.messages import Messages
from core.platform import UxEvent
from core.types import MediaResult, MediaType

log = logging.getLogger(__name__)

# (msg_type, content, uuid suffix) -> message id
Poster = Callable[[str, Mapping[str, Any], str], Awaitable[str]]


class MediaDelivery:
    def __init__(self, api: FeishuApi, downloader: SafeResultDownloader, messages: Messages,
                 probe: MediaProbe | None = None, temp_root: Path | None = None) -> None:
        self._api = api
        self._messages = chat_messages(messages, MESSAGES_PACKAGE)
        self._probe = probe
        self._temp_root = temp_root
        self._downloader = downloader

    async def deliver(self, event: UxEvent, post: Poster) -> str:
        """Every result of ``event`` in one message; its id."""
        limits = DeliveryLimits(max_file_bytes=_cap)

        async def post_all(files: list[ResultFile], workdir: Path) -> str:
            if len(files) == 1:
                return await self._post_one(files[0], event, post, workdir)
            return await self._post_gallery(files, event, post, workdir)

        return await deliver_results(event.media, self._downloader, limits, post_all, self._temp_root)

    async def _post_gallery(self, files: list[ResultFile], event: UxEvent, post: Poster, workdir: Path
                            ) -> str:
        rows: list[list[dict[str, str]]] = []
        for file in files:
            try:
                rows.append([await self._gallery_item(file, workdir)])
            except (ImabotError, OSError) as exc:
                log.warning("feishu gallery of job %s: media %d shown as a link: %r",
                            event.job_id, file.index, exc)
                rows.append([_link_tag(file)])
        locale = "zh_cn" if event.language.value == "zh" else "en_us"
        return await post("post", {locale: {"title": "", "content": rows}}, "gallery")

    async def _gallery_item(self, file: ResultFile, workdir: Path) -> dict[str, str]:
        media, path = file.media, file.path
        if path is None or media.kind not in (MediaType.IMAGE, MediaType.VIDEO):
            return _link_tag(file)
        if media.kind is MediaType.IMAGE:
            return {"tag": "img", "image_key": await self._api.upload_image(path)}
        duration_ms = await self._duration_ms(media, path)
        cover_key = await self._cover_key(media, path, workdir)
        file_key = await self._api.upload_file(path, "mp4", file_name=path.name, duration_ms=duration_ms)
        return {"tag": "media", "file_key": file_key, **({"image_key": cover_key} if cover_key else {})}

    async def _post_one(self, file: ResultFile, event: UxEvent, post: Poster, workdir: Path) -> str:
        media, index = file.media, file.index
        if file.path is None:
            if file.too_large:
                limit_mb = _cap(media) // (1024 * 1024)
                text = self._messages.text("feishu.result.too_large", event.language, limit_mb=limit_mb)
            else:
                text = self._messages.text("feishu.result.unavailable", event.language)
            return await self._link(media, index, event, post, text)
        try:
            return await self._upload_and_post(media, index, file.path, post, workdir)
        except (ImabotError, OSError) as exc:
            log.warning("feishu delivery of job %s media %d fell back to a link: %r",
                        event.job_id, index, exc)
            return await self._link(media, index, event, post,
                                    self._messages.text("feishu.result.unavailable", event.language))

    async def _upload_and_post(self, media: MediaResult, index: int, path: Path, post: Poster, workdir: Path
                               ) -> str:
        if media.kind is MediaType.IMAGE:
            image_key = await self._api.upload_image(path)
            return await post("image", {"image_key": image_key}, f"m{index}")
        if media.kind is MediaType.VIDEO:
            duration_ms = await self._duration_ms(media, path)
            cover_key = await self._cover_key(media, path, workdir)
            file_key = await self._api.upload_file(path, "mp4", file_name=path.name, duration_ms=duration_ms)
            content = {"file_key": file_key, **({"image_key": cover_key} if cover_key else {})}
            return await post("media", content, f"m{index}")
        if path.suffix.lower() == ".opus":
            duration_ms = await self._duration_ms(media, path)
            file_key = await self._api.upload_file(path, "opus", file_name=path.name, duration_ms=duration_ms)
            return await post("audio", {"file_key": file_key}, f"m{index}")
        file_key = await self._api.upload_file(path, "stream", file_name=path.name)
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
                fetched = await self._downloader.download(media.cover_url, workdir, IMAGE_MAX_BYTES,
                                                          cover.name)
                if fetched is None:  # over the image cap: the video plays without a cover
                    return None
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


def _link_tag(file: ResultFile) -> dict[str, str]:
    return {"tag": "a", "text": f"{file.index + 1}. {file.media.url}", "href": file.media.url}


def _cap(media: MediaResult) -> int:
    return IMAGE_MAX_BYTES if media.kind is MediaType.IMAGE else FILE_MAX_BYTES
