"""The upload host: ``getuploadtoken`` (11 params, recomputed SHA-1 sign), presigned PUT, public GET."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sim.responses import error, injected_response, success
from sim.state import StoredUpload, sim_state

APP_ID = "webAgent"
APP_KEY = "32jdskjdk320eew"
F_SERVICE = "privite"  # sic, as production spells it
F_TYPES = frozenset({"picture", "video", "audio"})
REQUIRED = ("appUid", "appId", "appKey", "cmimToken", "sign", "timestamp", "nonce", "fService", "fType",
            "fSuffix", "fContentType")
MAX_UPLOAD_BYTES = 80 * 1024 * 1024
FUL_TTL_SECONDS = 7 * 24 * 3600
ACCESS_KEY_ID = "SIMACCESSKEY"
_SIGNING_SECRET = b"imabot-simulator-presign"  # not a secret: a fixed value for a local fake


def expected_sign(timestamp: str, nonce: str) -> str:
    return hashlib.sha1(f"{APP_ID}|{APP_KEY}|{timestamp}|{nonce}".encode()).hexdigest().upper()


def _presign(key: str, expires: int) -> str:
    return hmac.new(_SIGNING_SECRET, f"{key}|{expires}".encode(), hashlib.sha256).hexdigest()


async def upload_token(request: Request) -> Response:
    state = sim_state(request)
    state.calls["getuploadtoken"] += 1
    if (faulted := await injected_response(state, "token")) is not None:
        return faulted
    q = request.query_params
    missing = [name for name in REQUIRED if not q.get(name)]
    if missing:
        return error(400, f"missing parameters: {', '.join(missing)}")
    if not q["appUid"].startswith("ima_") or q["cmimToken"] != q["appUid"]:
        return error(401, "Unauthorized")
    if q["appId"] != APP_ID or q["appKey"] != APP_KEY or q["fService"] != F_SERVICE:
        return error(400, "invalid app parameters")
    if q["fType"] not in F_TYPES:
        return error(400, f"invalid fType: {q['fType']!r}")
    if not q["timestamp"].isdigit():
        return error(400, "invalid timestamp")
    if q["sign"] != expected_sign(q["timestamp"], q["nonce"]):
        return error(400, "invalid sign")
    now = state.clock.now()
    day = time.strftime("%Y/%m/%d", time.gmtime(now))
    suffix = q["fSuffix"].lower().lstrip(".")
    key = f"{APP_ID}/{F_SERVICE}/{day}/{int(now)}_{state.next_number()}_{uuid.uuid4().hex}.{suffix}"
    expires = int(now) + FUL_TTL_SECONDS
    state.issued_uploads[key] = expires
    query = urlencode({"Expires": expires, "OSSAccessKeyId": ACCESS_KEY_ID,
                       "Signature": _presign(key, expires)})
    cfg = state.config
    return success(cfg.success_code, {
        "ful": f"{cfg.upload_base_url}/_sim/upload/{key}?{query}",
        "fdl": f"{cfg.public_base_url}/_sim/files/{key}",
        "ful_expire": expires, "fdl_expire": expires, "fdl_key": key,
    })


async def put_upload(request: Request) -> Response:
    state = sim_state(request)
    state.calls["upload"] += 1
    if (faulted := await injected_response(state, "upload")) is not None:
        return faulted
    key = request.path_params["key"]
    q = request.query_params
    expires = state.issued_uploads.get(key)
    if expires is None or q.get("Signature") != _presign(key, expires) or str(expires) != q.get("Expires"):
        return Response("SignatureDoesNotMatch", status_code=403)
    if state.clock.now() > expires:
        return Response("Request has expired", status_code=403)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return Response("EntityTooLarge", status_code=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return Response("EntityTooLarge", status_code=413)
        chunks.append(chunk)
    content_type = request.headers.get("content-type", "application/octet-stream")
    state.uploads[key] = StoredUpload(b"".join(chunks), content_type)
    return Response(status_code=200)


async def get_file(request: Request) -> Response:
    state = sim_state(request)
    state.calls["files"] += 1
    if (faulted := await injected_response(state, "files")) is not None:
        return faulted
    stored = state.uploads.get(request.path_params["key"])
    if stored is None:
        return Response("NoSuchKey", status_code=404)
    return Response(stored.content, media_type=stored.content_type)


ROUTES = [
    Route("/api/rest/oss/getuploadtoken", upload_token, methods=["GET"]),
    Route("/_sim/upload/{key:path}", put_upload, methods=["PUT"]),
    Route("/_sim/files/{key:path}", get_file, methods=["GET"]),
]
