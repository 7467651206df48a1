"""Builds webhook requests the way Feishu sends them: AES-256-CBC encrypted body plus signature."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from Crypto.Cipher import AES


def encrypt(event: dict[str, Any], encrypt_key: str) -> bytes:
    plain = json.dumps(event, ensure_ascii=False).encode()
    pad = 16 - len(plain) % 16
    plain += bytes([pad]) * pad
    iv = os.urandom(16)
    key = hashlib.sha256(encrypt_key.encode()).digest()
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return json.dumps({"encrypt": base64.b64encode(iv + cipher.encrypt(plain)).decode()}).encode()


def signed_headers(body: bytes, encrypt_key: str, *, timestamp: str = "1767225600", nonce: str = "n0nce",
                   lower_case: bool = False) -> dict[str, str]:
    signature = hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()
    headers = {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
               "X-Lark-Signature": signature, "Content-Type": "application/json"}
    return {k.lower(): v for k, v in headers.items()} if lower_case else headers


def with_token(event: dict[str, Any], token: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    if "header" in event:
        event["header"]["token"] = token
    else:
        event["token"] = token
    return event
