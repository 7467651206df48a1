"""The REST routes discord.py 2.7 calls for this bot (login, command sync, interaction callbacks and
webhooks, channel messages, DM channel creation). Every request is recorded before it is answered."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    from tests.discord_fake.server import FakeDiscord, RecordedFile

Handler = Callable[[web.Request, Any, list["RecordedFile"]], Awaitable[web.Response]]
EPHEMERAL = 1 << 6

NONCE_WINDOW_S = 300.0  # "within the past few minutes" (Discord API: Create Message, enforce_nonce)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares the content type with == "application/json" (no charset allowed).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error(status: int, code: int, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status)


def add_rest_routes(app: web.Application, fake: FakeDiscord) -> None:
    from tests.discord_fake.server import RecordedFile, RecordedRequest, new_message

    async def read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
        files: list[RecordedFile] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    size = 0
                    while chunk := await part.read_chunk():
                        size += len(chunk)
                    files.append(
                        RecordedFile(
                            part.name or "", part.filename or "", size, part.headers.get("Content-Type")
                        )
                    )
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), files

    def route(method: str, path: str, handler: Handler) -> None:
        async def wrapped(request: web.Request) -> web.Response:
            body, files = await read_body(request)
            rec = RecordedRequest(fake.next_seq(), method, request.path, dict(request.query), body, files)
            fault = fake.take_fault(method, request.path)
            response = (
                json_response(fault.body, fault.status, fault.headers)
                if fault
                else await handler(request, body, files)
            )
            rec.status = response.status
            if fake.json_charset and response.content_type == "application/json":
                response.headers["Content-Type"] = "application/json; charset=utf-8"
            await fake.record(rec)
            return response

        app.router.add_route(method, "/api/v10" + path, wrapped)

    def interaction_channel(interaction_id: str | None, token: str | None) -> Any:
        for data in fake.interactions.values():
            if data["id"] == interaction_id or data["token"] == token:
                return fake.channel_by_id(data["channel_id"]) or fake.dm_channel_for(fake.alice)
        return fake.channel

    async def me(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        if fake.bot_token is not None and request.headers.get("Authorization") != f"Bot {fake.bot_token}":
            return error(401, 0, "401: Unauthorized")
        return json_response(fake.bot.payload())

    async def commands(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        return json_response(fake.commands)

    async def app_info(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        return json_response(
            {
                "id": fake.bot.id,
                "name": "imabot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "00",
                "owner": fake.alice.payload(),
                "flags": 0,
                "team": None,
            }
        )

    async def sync(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        out = [{**cmd, "id": fake.ids.next(), "application_id": fake.bot.id, "version": "1"} for cmd in body]
        fake.commands = out
        return json_response(out)

    async def callback(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        iid, token = request.match_info["iid"], request.match_info["token"]
        kind = int(body["type"])
        interaction: dict[str, Any] = {"id": iid, "type": 2}
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            data = body.get("data") or {}
            channel = interaction_channel(iid, None)
            msg = new_message(fake, channel, data, files, interaction_id=iid)
            msg["flags"] = int(data.get("flags") or 0)
            fake.originals[token] = (channel, msg["id"])
            interaction.update(
                response_message_id=msg["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(msg["flags"] & EPHEMERAL),
            )
            resource["message"] = msg
        if fake.callback_without_body:
            return web.Response(status=204)
        return json_response({"interaction": interaction, "resource": resource})

    def original(token: str) -> dict[str, Any] | None:
        found = fake.originals.get(token)
        return found[0].messages.get(found[1]) if found else None

    async def get_original(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        token = request.match_info["token"]
        if token in fake.expired_tokens:
            return error(401, 50027, "Invalid Webhook Token")
        msg = original(token)
        return json_response(msg) if msg else error(404, 10008, "Unknown Message")

    async def edit_original(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        token = request.match_info["token"]
        if token in fake.expired_tokens:
            return error(401, 50027, "Invalid Webhook Token")
        msg = original(token)
        if msg is None:
            return error(404, 10008, "Unknown Message")
        return json_response(_apply_edit(fake, msg, body, files))

    async def delete_original(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        found = fake.originals.pop(request.match_info["token"], None)
        if found:
            found[0].messages.pop(found[1], None)
        return web.Response(status=204)

    async def followup(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        token = request.match_info["token"]
        if token in fake.expired_tokens:
            return error(401, 50027, "Invalid Webhook Token")
        channel = interaction_channel(None, token)
        msg = new_message(fake, channel, body or {}, files)
        msg["flags"] = int((body or {}).get("flags") or 0)
        return json_response(msg)

    async def send(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        channel = fake.channel_by_id(request.match_info["cid"])
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        if channel.deny_send or (files and channel.deny_attach):
            return error(403, 50013, "Missing Permissions")
        nonce = str((body or {}).get("nonce") or "")
        if nonce and (body or {}).get("enforce_nonce"):
            # Discord: the same nonce from the same author within a few minutes returns that message.
            known = fake.nonces.get((channel.id, nonce))
            if known is not None and fake.now() - known[1] <= NONCE_WINDOW_S:
                return json_response(channel.messages[known[0]])
        message = new_message(fake, channel, body or {}, files)
        if nonce:
            message["nonce"] = nonce  # echoed in the Create Message reply, as Discord does
            fake.nonces[(channel.id, nonce)] = (message["id"], fake.now())
        return json_response(message)

    async def edit(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        channel = fake.channel_by_id(request.match_info["cid"])
        msg = channel.messages.get(request.match_info["mid"]) if channel else None
        if msg is None or msg.get("flags", 0) & EPHEMERAL:
            return error(404, 10008, "Unknown Message")
        return json_response(_apply_edit(fake, msg, body, files))

    async def open_dm(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        user = fake.bob if body["recipient_id"] == fake.bob.id else fake.alice
        return json_response(fake.dm_channel_for(user).payload())

    async def gateway_bot(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        return json_response(
            {
                "url": fake.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                        "max_concurrency": 1},
            }
        )

    async def not_found(request: web.Request, body: Any, files: list[RecordedFile]) -> web.Response:
        return error(404, 0, "not in the fake")

    route("GET", "/users/@me", me)
    route("GET", "/gateway/bot", gateway_bot)
    route("GET", "/oauth2/applications/@me", app_info)
    route("PUT", "/applications/{app}/commands", sync)
    route("GET", "/applications/{app}/commands", commands)
    route("PUT", "/applications/{app}/guilds/{gid}/commands", sync)
    route("POST", "/interactions/{iid}/{token}/callback", callback)
    route("GET", "/webhooks/{app}/{token}/messages/@original", get_original)
    route("PATCH", "/webhooks/{app}/{token}/messages/@original", edit_original)
    route("DELETE", "/webhooks/{app}/{token}/messages/@original", delete_original)
    route("POST", "/webhooks/{app}/{token}", followup)
    route("POST", "/channels/{cid}/messages", send)
    route("PATCH", "/channels/{cid}/messages/{mid}", edit)
    route("POST", "/users/@me/channels", open_dm)
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        route(method, "/{tail:.*}", not_found)


def _apply_edit(
    fake: FakeDiscord, msg: dict[str, Any], body: Any, files: list[RecordedFile]
) -> dict[str, Any]:
    from tests.discord_fake.payloads import attachment_payload

    body = body or {}
    if "content" in body:
        msg["content"] = body["content"] or ""
    if "components" in body:
        msg["components"] = body["components"] or []
    if files:
        msg["attachments"] = [
            attachment_payload(
                fake.ids.next(), f.filename, f.size, fake.url(f"/cdn/{f.filename}"), f.content_type
            )
            for f in files
        ]
    msg["edited_timestamp"] = "2026-01-01T00:00:01.000000+00:00"
    return msg
