"""Downloading what users send: streamed, capped, and explained when Feishu cannot serve it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.feishu.fetcher import FeishuAttachmentFetcher
from adapters.feishu.inbound import attachment_ref
from adapters.media.remote import SafeRemoteFetcher
from core.clock import FakeClock
from core.errors import InputError
from core.media.ports import MediaTooLargeError
from core.types import Attachment, AttachmentKind
from tests.feishu_fake.fixtures import api_for, running_fake


def image_attachment(message_id: str, key: str, name: str = "cat.png") -> Attachment:
    return Attachment(kind=AttachmentKind.IMAGE, name=name, ref=attachment_ref(message_id, key, "image"))


async def test_resource_is_saved_under_a_safe_name(tmp_path: Path) -> None:
    async with running_fake() as fake, SafeRemoteFetcher() as http:
        fake.add_resource("om_1", "img_1", b"png-bytes", "cat.png")
        fetcher = FeishuAttachmentFetcher(api_for(fake, FakeClock()), http, fake.base_url)
        path = await fetcher.fetch(image_attachment("om_1", "img_1", "../../etc/passwd"), tmp_path, 1024)
        assert path.parent == tmp_path and path.read_bytes() == b"png-bytes"
        assert path.name.endswith("passwd") and ".." not in path.name


async def test_over_the_cap_is_refused_and_nothing_is_left_behind(tmp_path: Path) -> None:
    async with running_fake() as fake, SafeRemoteFetcher() as http:
        fake.add_resource("om_1", "img_1", bytes(5000), "big.png")
        fetcher = FeishuAttachmentFetcher(api_for(fake, FakeClock()), http, fake.base_url)
        with pytest.raises(MediaTooLargeError) as info:
            await fetcher.fetch(image_attachment("om_1", "img_1"), tmp_path, 1000)
        assert info.value.limit_bytes == 1000
        assert not any(tmp_path.iterdir())  # noqa: ASYNC240  (a test assertion, not serving code)


async def test_forwarded_resources_become_an_input_error(tmp_path: Path) -> None:
    async with running_fake() as fake, SafeRemoteFetcher() as http:
        fake.fail_next("resource", 234043)
        fetcher = FeishuAttachmentFetcher(api_for(fake, FakeClock()), http, fake.base_url)
        with pytest.raises(InputError) as info:
            await fetcher.fetch(image_attachment("om_1", "img_1"), tmp_path, 1000)
        assert "234043" not in str(info.value.params)


async def test_refs_from_other_platforms_are_refused(tmp_path: Path) -> None:
    async with running_fake() as fake, SafeRemoteFetcher() as http:
        fetcher = FeishuAttachmentFetcher(api_for(fake, FakeClock()), http, fake.base_url)
        with pytest.raises(InputError):
            local = Attachment(kind=AttachmentKind.IMAGE, name="x.png", ref="/etc/hosts")
            await fetcher.fetch(local, tmp_path, 10)
