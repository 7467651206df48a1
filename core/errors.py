"""The one typed error hierarchy. Edges raise these; ``core.messages`` turns them into user text.

Error objects never carry API keys, auth headers or signed URLs; ``detail`` is for logs and is
already redacted by whoever raises.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    AUTH = "auth"  # 401
    INSUFFICIENT_POINTS = "insufficient_points"  # 4008
    SUBSCRIPTION_REQUIRED = "subscription_required"  # 4014
    CREDIT_MISMATCH = "credit_mismatch"  # 6006
    NO_RULE = "no_rule"  # 6009
    ATTRIBUTE_MISMATCH = "attribute_mismatch"  # 6010
    BAD_PARAMS = "bad_params"  # 400 / 400017 / invalid product attribute
    RATE_LIMITED = "rate_limited"  # 429
    UNAVAILABLE = "unavailable"  # 503 model unavailable
    SERVER_ERROR = "server_error"  # 500
    TIMEOUT = "timeout"  # polling exceeded the cap
    NETWORK = "network"  # connection refused/reset, DNS, read timeout
    PROTOCOL = "protocol"  # malformed / non-JSON response
    MEDIA_FAILED = "media_failed"  # resource_status 2, or 1 + failed
    CONTENT_POLICY = "content_policy"  # media failed for a policy reason
    DELETED = "deleted"  # resource_status 3
    UNKNOWN_MODEL = "unknown_model"
    INVALID_INPUT = "invalid_input"  # attachments wrong kind/size/count, preflight violations
    VERIFY_FAILED = "verify_failed"  # assets/verify did not pass
    VERIFY_PENDING = "verify_pending"  # assets/verify still "processing" after we waited
    MISSING_PROMPT = "missing_prompt"
    CANCELLED = "cancelled"
    LOST = "lost"  # OUR process restarted while the create call was in flight: outcome unknown
    CREATE_UNCONFIRMED = "create_unconfirmed"  # connection lost / unreadable reply after the create was sent
    CREATE_TIMED_OUT = "create_timed_out"  # the create was sent and IMA did not answer in time
    UPLOAD_REFUSED = "upload_refused"  # the upload server refused a file (HTTP 4xx on the PUT)
    TASK_NOT_FOUND = "task_not_found"  # a created task that IMA's detail no longer knows (404)
    POLL_UNREACHABLE = "poll_unreachable"  # a created task whose status IMA would not tell us, repeatedly
    UNSAFE_URL = "unsafe_url"  # a link to a private/local address (or not a public http(s) link)
    STORE_UNAVAILABLE = "store_unavailable"  # the database refused writes for longer than we wait
    REFUSED = "refused"  # a spend rule (budget, queue, own key) stopped the job before anything was created
    INTERNAL = "internal"


# A create was sent but its answer never arrived: the task may exist and may have been charged.
UNCERTAIN_CREATE_KINDS = frozenset({ErrorKind.LOST, ErrorKind.CREATE_UNCONFIRMED, ErrorKind.CREATE_TIMED_OUT})

# Kinds whose cause is transient: safe to retry a *poll* (never a create) after a backoff.
TRANSIENT_KINDS = frozenset({ErrorKind.NETWORK, ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR,
                             ErrorKind.PROTOCOL, ErrorKind.UNAVAILABLE})


class ImabotError(Exception):
    """Base of every error the bot knows how to explain to a user."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, detail: str = "", *, kind: ErrorKind | None = None, code: int | str | None = None,
                 retry_after: float | None = None, params: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        if kind is not None:
            self.kind = kind
        self.detail = detail
        self.code = code
        self.retry_after = retry_after
        # Values safe to show users (file names, limits, model names) for message templates.
        self.params: dict[str, str] = dict(params or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind.value!r}, code={self.code!r}, detail={self.detail!r})"


class ImaApiError(ImabotError):
    """The IMA Open API (or the transport to it) failed."""


class InputError(ImabotError):
    """The user's request or media cannot be used as given."""

    kind = ErrorKind.INVALID_INPUT


class StoreUnavailableError(ImabotError):
    """A store could not read or write for a transient reason (locked, busy, disk full); retrying later
    may succeed. Adapters map their driver's errors to this once, at the edge."""

    kind = ErrorKind.STORE_UNAVAILABLE


class PlatformError(ImabotError):
    """A chat platform call failed (Discord, Feishu)."""
