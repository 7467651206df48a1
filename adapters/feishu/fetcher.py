"""``core.ports.AttachmentFetcher`` for files users send on Feishu (message resources).

Same endpoint as the SDK's ``message_resource.get`` (``GET /open-apis/im/v1/messages/:id/resources/:key``)
but streamed to disk with a byte cap: the SDK reads the whole body (up to Feishu's 100 MB) into memory.
The tenant token still comes from the SDK's own token manager.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

from adapters.feishu.api import FeishuApi
from adapters.feishu.inbound import parse_attachment_ref
from adapters.media.remote import SafeRemoteFetcher
from core.errors import InputError
from core.media.ports import RemoteFetchError
from core.types import Attachment

# Feishu cannot serve resources of merge-forwarded messages or cards (234043) or missing ones (234003).
_NOT_DOWNLOADABLE = {"234043", "234003", "234004"}
_UNSAFE_NAME = re.compile(r"[^\w.\-]+")


class FeishuAttachmentFetcher:
    def __init__(self, api: FeishuApi, fetcher: SafeRemoteFetcher, domain: str) -> None:
        """``fetcher``: the one safe fetcher; the Feishu domain is trusted by name, its token is sent
        to that origin only, and any redirect it answers with is checked like a user's link."""
        self._api = api
        self._fetcher = fetcher
        self._domain = domain.rstrip("/")
        self._host = frozenset({(urlsplit(self._domain).hostname or "").lower()})

    async def fetch(self, attachment: Attachment, dest_dir: Path, max_bytes: int) -> Path:
        parsed = parse_attachment_ref(attachment.ref)
        if parsed is None:
            raise InputError(f"not a Feishu resource: {attachment.name}", params={"name": attachment.name})
        message_id, key, resource_type = parsed
        url = (f"{self._domain}/open-apis/im/v1/messages/{quote(message_id, safe='')}/resources/"
               f"{quote(key, safe='')}?type={resource_type}")
        token = await self._api.tenant_token()
        await asyncio.to_thread(dest_dir.mkdir, parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex[:8]}-{_safe_name(attachment.name)}"
        try:
            return await self._fetcher.fetch(url, dest_dir, max_bytes, trusted_hosts=self._host,
                                             headers={"Authorization": f"Bearer {token}"}, name=name)
        except RemoteFetchError as exc:
            if exc.params.get("code") in _NOT_DOWNLOADABLE:
                raise InputError(f"resource not downloadable ({exc.params['code']})",
                                 params={"name": attachment.name}) from exc
            raise


def _safe_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", Path(name).name).strip("._")
    return cleaned[-80:] or "attachment"
