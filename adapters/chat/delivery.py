"""Result delivery shared by every chat platform: capped download → upload → link fallback.

``deliver_results`` fetches a job's result files into one temp dir, under the platform's caps (per file,
per message, files per message), and hands them to the platform's ``post`` which uploads what was
fetched and offers a link for the rest. Whatever goes wrong while fetching, the user still gets a way
to open every result: a file that could not be fetched is a ``ResultFile`` without a path.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from core.errors import ImabotError
from core.media.workdir import temp_workdir
from core.types import MediaResult, MediaType

log = logging.getLogger(__name__)
T = TypeVar("T")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DEFAULT_SUFFIX = {MediaType.VIDEO: "mp4", MediaType.IMAGE: "png", MediaType.MUSIC: "mp3",
                   MediaType.SPEECH: "mp3"}


class ResultDownloader(Protocol):
    async def download(self, url: str, dest_dir: Path, max_bytes: int, name: str | None = None
                       ) -> Path | None:
        """Save ``url`` under ``dest_dir``; None when it is larger than ``max_bytes``."""
        ...


@dataclass(frozen=True, slots=True)
class ResultFile:
    """One result of a job: its local copy, or why there is none (``too_large``: over the cap; else the
    download failed or there was no room left in the message)."""

    media: MediaResult
    index: int
    path: Path | None = None
    too_large: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    max_file_bytes: Callable[[MediaResult], int]
    max_message_bytes: int | None = None
    max_files: int | None = None


def file_name_for(url: str, fallback: str) -> str:
    """A safe local file name from a URL's last path part."""
    raw = unquote(Path(urlsplit(url).path).name)
    cleaned = _SAFE_NAME.sub("_", raw).strip("._")
    return cleaned[:80] or fallback


def result_file_name(media: MediaResult, index: int) -> str:
    """``result-1.mp4``: numbered from 1, with the suffix of what the file is."""
    suffix = Path(urlsplit(media.url).path).suffix.lower().lstrip(".")
    if not suffix or len(suffix) > 5:
        suffix = media.format.lower() if media.format else _DEFAULT_SUFFIX[media.kind]
    return f"result-{index + 1}.{suffix}"


async def fetch_results(media: Sequence[MediaResult], downloader: ResultDownloader, workdir: Path,
                        limits: DeliveryLimits) -> list[ResultFile]:
    files: list[ResultFile] = []
    room = limits.max_message_bytes
    fetched = 0
    for index, item in enumerate(media):
        if (limits.max_files is not None and fetched >= limits.max_files) or (room is not None and room <= 0):
            files.append(ResultFile(item, index))
            continue
        cap = limits.max_file_bytes(item)
        cap = cap if room is None else min(cap, room)
        try:
            path = await downloader.download(item.url, workdir, cap, result_file_name(item, index))
        except (ImabotError, OSError) as exc:
            log.warning("result %d could not be fetched (%s); offering its link", index, type(exc).__name__)
            files.append(ResultFile(item, index))
            continue
        if path is None:
            files.append(ResultFile(item, index, too_large=True))
            continue
        fetched += 1
        if room is not None:
            room -= (await asyncio.to_thread(path.stat)).st_size
        files.append(ResultFile(item, index, path))
    return files


async def deliver_results(media: Sequence[MediaResult], downloader: ResultDownloader, limits: DeliveryLimits,
                          post: Callable[[list[ResultFile], Path], Awaitable[T]],
                          temp_root: Path | None = None) -> T:
    """Fetch the results into one temp dir, let the platform ``post`` them (the files are removed after)."""
    async with temp_workdir(temp_root, "imabot-results-") as workdir:
        files = await fetch_results(media, downloader, workdir, limits)
        return await post(files, workdir)
