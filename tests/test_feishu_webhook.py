"""Webhook intake: Feishu's encrypted, signed requests accepted; forged ones rejected with no task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.dedupe_store import SqlDedupeStore
from adapters.feishu.adapter import FeishuAdapter, FeishuConfig
from adapters.sqlite.db import Database
from core.clock import FakeClock
from tests.feishu_fake.events import card_action_event, message_event
from tests.feishu_fake.fixtures import running_fake
from tests.feishu_fake.service import RecordingService
from tests.feishu_fake.webhook_client import encrypt, signed_headers, with_token

KEY = "encrypt-key-for-tests"
TOKEN = "verification-token-for-tests"


@dataclass
class Hook:
    adapter: FeishuAdapter
    service: RecordingService
    http: httpx.AsyncClient
    url: str

    async def post(self, event: dict[str, object], *, token: str = TOKEN, key: str = KEY,
                   lower_case: bool = False, tamper: bool = False) -> httpx.Response:
        body = encrypt(with_token(event, token), key)
        headers = signed_headers(body, key, lower_case=lower_case)
        if tamper:
            body = encrypt(with_token(event, token), key)  # different ciphertext, old signature
        response = await self.http.post(self.url, content=body, headers=headers)
        await self.adapter.router.drain()
        return response


@asynccontextmanager
async def webhook_bot(tmp_path: Path) -> AsyncIterator[Hook]:
    clock = FakeClock()
    async with running_fake() as fake, Database(tmp_path / "db.sqlite3") as db:
        service = RecordingService()
        config = FeishuConfig(app_id=fake.app_id, app_secret="secret", domain=fake.base_url, intake="webhook",
                              webhook_port=0, encrypt_key=KEY, verification_token=TOKEN)
        adapter = FeishuAdapter(config, service, SqlDedupeStore(db, clock), clock)
        service.sink = adapter.sink
        async with adapter, httpx.AsyncClient() as http:
            assert adapter.webhook_url is not None
            yield Hook(adapter, service, http, adapter.webhook_url)


async def test_url_verification_returns_the_challenge(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as hook:
        response = await hook.post({"type": "url_verification", "challenge": "ch-123"})
        assert response.status_code == 200 and response.json() == {"challenge": "ch-123"}


async def test_encrypted_signed_event_is_handled_once(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as hook:
        event = message_event(text="一只猫", chat_type="p2p", mention_bot=False)
        for _ in range(2):
            response = await hook.post(event)
            assert response.status_code == 200
        assert [m.text for m in hook.service.messages] == ["一只猫"]


async def test_lower_cased_header_names_still_verify(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as hook:
        response = await hook.post(message_event(text="一只狗", chat_type="p2p"), lower_case=True)
        assert response.status_code == 200
        assert len(hook.service.messages) == 1


async def test_forged_requests_are_rejected_and_start_nothing(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as hook:
        event = message_event(text="一只猫", chat_type="p2p")
        assert (await hook.post(event, tamper=True)).status_code == 401
        assert (await hook.post(event, token="wrong-token")).status_code == 401
        assert (await hook.post(event, key="another-key")).status_code == 401
        plain = await hook.http.post(hook.url, json=with_token(event, TOKEN))
        assert plain.status_code == 400
        garbage = await hook.http.post(hook.url, content=b"not json")
        assert garbage.status_code == 400
        assert hook.service.messages == []


async def test_card_callback_over_webhook_returns_the_toast(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as hook:
        await hook.post(message_event(text="a cat video"))
        response = await hook.post(card_action_event(action="retry", job_id="job-1"))
        assert response.status_code == 200
        assert response.json() == {"toast": {"type": "success", "content": "已重新开始"}}
