"""The single translation from IMA replies (HTTP status, body code, message) to ``ImaApiError``,
plus redaction of secrets for error details and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from core.errors import ErrorKind, ImaApiError

if TYPE_CHECKING:  # httpx loads with the IMA client; the log redaction here must not pull it in
    import httpx

SUCCESS_CODES = frozenset({0, 200})

_CODE_KINDS: dict[int, ErrorKind] = {
    401: ErrorKind.AUTH,
    403: ErrorKind.SUBSCRIPTION_REQUIRED,  # troubleshooting docs use 403 for the subscription gate
    4008: ErrorKind.INSUFFICIENT_POINTS,
    4014: ErrorKind.SUBSCRIPTION_REQUIRED,
    6006: ErrorKind.CREDIT_MISMATCH,
    6009: ErrorKind.NO_RULE,
    6010: ErrorKind.ATTRIBUTE_MISMATCH,
    400: ErrorKind.BAD_PARAMS,
    400017: ErrorKind.BAD_PARAMS,
    429: ErrorKind.RATE_LIMITED,
    500: ErrorKind.SERVER_ERROR,
    502: ErrorKind.SERVER_ERROR,
    503: ErrorKind.UNAVAILABLE,
    504: ErrorKind.SERVER_ERROR,
}

# HTTP statuses when the body has no usable code (a gateway's 403 is about the key, not the plan).
_HTTP_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind.BAD_PARAMS,
    401: ErrorKind.AUTH,
    403: ErrorKind.AUTH,
    429: ErrorKind.RATE_LIMITED,
    500: ErrorKind.SERVER_ERROR,
    502: ErrorKind.SERVER_ERROR,
    503: ErrorKind.UNAVAILABLE,
    504: ErrorKind.SERVER_ERROR,
}

# Substrings the official scripts look for when a reply carries no usable code.
_MESSAGE_KINDS: tuple[tuple[str, ErrorKind], ...] = (
    ("unauthorized", ErrorKind.AUTH),
    ("insufficient points", ErrorKind.INSUFFICIENT_POINTS),
    ("requires a subscription", ErrorKind.SUBSCRIPTION_REQUIRED),
    ("no exact rule match", ErrorKind.NO_RULE),
    ("attribute id does not match", ErrorKind.ATTRIBUTE_MISMATCH),
    ("invalid product attribute", ErrorKind.BAD_PARAMS),
    ("invalid value for model", ErrorKind.BAD_PARAMS),
    ("too many requests", ErrorKind.RATE_LIMITED),
    ("task not found", ErrorKind.TASK_NOT_FOUND),
)

_SIGNED_URL = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")


def map_api_error(http_status: int | None, code: Any, message: str, *, retry_after: float | None = None,
                  secrets: Iterable[str] = (), op: str | None = None) -> ImaApiError:
    """One place decides the ``ErrorKind``: the body code first, then the message, then HTTP status.
    ``op`` names the call: a 404 from ``detail`` means the task is unknown (not a parameter error)."""
    message = redact_text(str(message or ""), secrets)
    body_code = _as_int(code)
    kind = _CODE_KINDS.get(body_code) if body_code is not None else None
    if op == "detail" and 404 in (body_code, http_status):
        kind = ErrorKind.TASK_NOT_FOUND
    if kind is None:
        lowered = message.lower()
        kind = next((k for needle, k in _MESSAGE_KINDS if needle in lowered), None)
    if kind is None and http_status is not None:
        kind = _HTTP_KINDS.get(http_status) or _by_range(http_status)
    if kind is None and body_code is not None:
        kind = _by_range(body_code)
    reported = body_code if body_code is not None else http_status
    detail = f"IMA error code={reported} http={http_status}: {message}".strip()
    source = "body" if body_code is not None else "http"
    return ImaApiError(detail, kind=kind or ErrorKind.INTERNAL, code=reported, retry_after=retry_after,
                       params={"code": str(reported), "code_source": source})


def map_transport_error(exc: httpx.HTTPError, op: str, *, secrets: Iterable[str] = ()) -> ImaApiError:
    """A request that got no usable HTTP answer. Connect failures never reached the server; anything
    later may have, so for a create the outcome is unknown: a timeout and a broken connection are told
    apart (both are never re-sent)."""
    import httpx  # loaded already: the exception is one of its own

    reached = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if op == "create" and reached:
        timed_out = isinstance(exc, httpx.TimeoutException)
        kind = ErrorKind.CREATE_TIMED_OUT if timed_out else ErrorKind.CREATE_UNCONFIRMED
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        kind = ErrorKind.PROTOCOL
    else:
        kind = ErrorKind.NETWORK
    return ImaApiError(redact_text(f"{op}: {type(exc).__name__}: {exc}", secrets), kind=kind)


def map_upload_refusal(status: int, detail: str, *, secrets: Iterable[str] = ()) -> ImaApiError:
    """The upload PUT answered ``status`` (not 2xx): 5xx / 429 are transient; any other refusal (403 for
    an expired or rejected signature, 413 too large) is an upload refused, not a parameter error."""
    if status >= 500 or status == 429:
        return map_api_error(status, None, detail, secrets=secrets)
    return ImaApiError(detail, kind=ErrorKind.UPLOAD_REFUSED, code=status)


def _by_range(status: int) -> ErrorKind | None:
    if 500 <= status < 600:
        return ErrorKind.SERVER_ERROR
    if 400 <= status < 500:
        return ErrorKind.BAD_PARAMS
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def is_success(code: Any) -> bool:
    return _as_int(code) in SUCCESS_CODES


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After in seconds from delta-seconds or an HTTP date (relative to ``now``)."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- redaction


def mask_key(key: str) -> str:
    """The official logging rule: first 10 characters and "...", or "***" for short keys."""
    return f"{key[:10]}..." if len(key) > 10 else "***"


def strip_query(url: str) -> str:
    """A signed URL without its signature (the query string)."""
    return url.split("?", 1)[0].split("#", 1)[0]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_key(secret))
    return _SIGNED_URL.sub(r"\1", text)


class RedactingFilter(logging.Filter):
    """Strips query strings (upload tokens carry the key there; ``ful`` carries a signature) and the
    key itself from records of loggers we do not control, such as httpx's request log."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("imabot-redaction")
        self.secrets = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        # Redact the rendered line, not the format string: stripping a query out of a format such as
        # "GET https://h/p?x=%s" would leave its arguments unmatched and break the line.
        try:
            rendered = record.getMessage()
        except (TypeError, ValueError):  # a broken call: logging reports it, still without secrets
            rendered = redact_text(f"{record.msg} {record.args!r}", self.secrets)
        record.msg = redact_text(rendered, self.secrets)
        record.args = None
        return True


def install_log_redaction(secret: str, logger_names: Iterable[str] = ("httpx", "httpcore")) -> None:
    """Idempotently attach a ``RedactingFilter`` knowing ``secret`` to the HTTP libraries' loggers."""
    for name in logger_names:
        logger = logging.getLogger(name)
        existing = next((f for f in logger.filters if isinstance(f, RedactingFilter)), None)
        if existing is None:
            existing = RedactingFilter()
            logger.addFilter(existing)
        existing.secrets.add(secret)
