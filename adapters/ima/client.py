"""Async client of the IMA Open API; implements ``core.ports.ImaGateway``.

Requests are ``httpx.Request``s sent in three lanes (status polls; creates; everything else) over
transports shared with every ``with_key`` client (``adapters.ima.transport``); every reply goes through one
envelope check and one error mapping (``adapters.ima.errors``). The API key never reaches logs, errors or
``repr``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from adapters.ima import errors as ima_errors
from adapters.ima.catalog_tree import choose_leaf, walk_leaves
from adapters.ima.credit_rules import resolve
from adapters.ima.detail import snapshot_from_detail
from adapters.ima.errors import is_success, map_api_error, mask_key, redact_text, strip_query
from adapters.ima.payload import build_create_payload
from adapters.ima.reflection import MAX_ATTEMPTS, REFLECTABLE_KINDS, plan_retry
from adapters.ima.requests import RequestFactory
from adapters.ima.transport import ImaLanes, Lane, RequestGate, TransportKind
from adapters.ima.upload import (
    UPLOAD_TOKEN_PATH,
    checked_size,
    file_chunks,
    new_nonce,
    suffix_and_type,
    token_params,
)
from core.catalog.products import ProductLeaf
from core.clock import Clock
from core.errors import ErrorKind, ImaApiError
from core.ops.telemetry import NoTelemetry, Telemetry
from core.ports import CreatedTask, CreateWatch, Quote, TaskSnapshot, TaskSpec, VerifyResult
from core.types import AttachmentKind, TaskType

log = logging.getLogger("imabot.ima")

PRODUCT_LIST_PATH = "/open/v1/product/list"
CREATE_PATH = "/open/v1/tasks/create"
DETAIL_PATH = "/open/v1/tasks/detail"
VERIFY_PATH = "/open/v1/assets/verify"
VERIFY_PASS = frozenset({"active", "success"})
NOT_CREATED_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE})
BeforeSend = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, repr=False)
class ImaClientConfig:
    base_url: str
    upload_base_url: str
    api_key: str = field(compare=False)
    language: str = "en"
    app_source: str = "ima_skills"
    request_timeout_s: float = 30.0
    verify_timeout_s: float = 300.0
    upload_timeout_s: float = 60.0
    product_cache_ttl_s: float = 600.0
    max_upload_bytes: int = 200 * 1024 * 1024
    # Requests in flight at once (the rest queue in the client, never in the transport's pool): status
    # polls have their own lane so a burst of creates or uploads cannot starve them.
    poll_connections: int = 64
    call_connections: int = 16
    transport: TransportKind = "split"

    def __repr__(self) -> str:
        return (f"ImaClientConfig(base_url={self.base_url!r}, upload_base_url={self.upload_base_url!r}, "
                f"api_key={mask_key(self.api_key)!r}, language={self.language!r})")


class ImaClient:
    def __init__(self, config: ImaClientConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Clock, telemetry: Telemetry | None = None) -> None:
        self._config = config
        self._telemetry: Telemetry = telemetry or NoTelemetry()
        self._clock = clock
        self._products: dict[TaskType, tuple[float, tuple[ProductLeaf, ...]]] = {}
        self._inflight: dict[TaskType, asyncio.Future[tuple[ProductLeaf, ...]]] = {}
        # A job is quoted before it is announced and again as it is created (~70 us of rule matching)
        self._quotes: dict[Hashable, tuple[ProductLeaf, Quote]] = {}
        self._requests = RequestFactory(config.base_url, config.api_key, app_source=config.app_source,
                                        language=config.language)
        gate = RequestGate(config.poll_connections, config.call_connections, self._telemetry.ima_queue_wait)
        self._lanes = ImaLanes(gate, config.transport, transport=transport)
        self._owns_lanes = True
        self._redacting = False

    def with_key(self, api_key: str) -> ImaClient:
        """A client for another account's key (a user's own) that shares this client's connections and
        its bound on requests in flight."""
        child = ImaClient(replace(self._config, api_key=api_key), clock=self._clock,
                          telemetry=self._telemetry)
        child._lanes, child._owns_lanes = self._lanes, False
        return child

    def __repr__(self) -> str:
        return f"ImaClient({self._config!r})"

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._open()

    async def aclose(self) -> None:
        for fetch in list(self._inflight.values()):
            fetch.cancel()
        if self._owns_lanes:
            await self._lanes.aclose()

    async def __aenter__(self) -> ImaClient:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    # ------------------------------------------------------------ catalog and quotes

    async def list_products(self, task_type: TaskType, *, refresh: bool = False) -> Sequence[ProductLeaf]:
        """The category's leaves, cached for ``product_cache_ttl_s``; concurrent misses share one fetch."""
        cached = self._products.get(task_type)
        if cached and not refresh and cached[0] > self._clock.now():
            return cached[1]
        fetch = self._inflight.get(task_type)
        if fetch is None:
            fetch = asyncio.ensure_future(self._fetch_products(task_type))
            self._inflight[task_type] = fetch
            fetch.add_done_callback(lambda done: self._fetch_done(task_type, done))
        return await asyncio.shield(fetch)

    async def _fetch_products(self, task_type: TaskType) -> tuple[ProductLeaf, ...]:
        data = await self._call("GET", PRODUCT_LIST_PATH, op="product_list",
                                params={"app": "ima", "platform": "web", "category": task_type.value})
        leaves = walk_leaves(data, task_type)
        self._products[task_type] = (self._clock.now() + self._config.product_cache_ttl_s, leaves)
        return leaves

    def _fetch_done(self, task_type: TaskType, done: asyncio.Future[tuple[ProductLeaf, ...]]) -> None:
        if self._inflight.get(task_type) is done:
            del self._inflight[task_type]
        if not done.cancelled():
            done.exception()  # retrieved here so an unawaited failure is not reported as lost

    async def quote(self, spec: TaskSpec) -> Quote:
        return await self._quote(spec, refresh=False)

    async def _quote(self, spec: TaskSpec, *, refresh: bool) -> Quote:
        leaves = await self.list_products(spec.task_type, refresh=refresh)
        leaf = choose_leaf(leaves, spec.model_id, spec.version_id)
        key = _quote_key(leaf, spec.params)
        known = self._quotes.get(key) if key is not None else None
        if known is not None and known[0] is leaf:  # the same product list's leaf: the same rules
            return known[1]
        res = resolve(leaf, spec.params)
        quote = Quote(leaf=leaf, attribute_id=res.rule.attribute_id, credit=res.rule.points,
                      inner_params=res.inner_params, exact=res.exact, ignored_params=res.ignored_keys)
        if key is not None:
            if len(self._quotes) >= _QUOTES_KEPT:
                self._quotes.clear()
            self._quotes[key] = (leaf, quote)
        return quote

    # ------------------------------------------------------------ tasks

    async def create_task(self, spec: TaskSpec, watch: CreateWatch | None = None) -> CreatedTask:
        """Create with reflection: up to 3 attempts, adjusting after 500 / 6009 / 6010 / 6006 only.

        A transport failure after the request may have reached the server is raised as
        ``CREATE_TIMED_OUT`` / ``CREATE_UNCONFIRMED`` (the task may exist) and is never retried here.
        ``watch.sending`` is awaited once the request holds its gate slot with its body built, right
        before it is sent; ``watch.refused`` after a refusal that proves no task exists.
        """
        adjustments: list[str] = []
        refresh = False
        previous: tuple[Quote, ImaApiError] | None = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            quote = await self._quote(spec, refresh=refresh)
            if previous is not None and refresh:
                old, error = previous
                if error.kind is ErrorKind.CREDIT_MISMATCH and old.credit == quote.credit:
                    error.params.setdefault("attempts", str(attempt - 1))
                    raise error  # the fresh list quotes the same price: retrying cannot help
                if old.attribute_id != quote.attribute_id:
                    adjustments.append(f"attribute_id:{old.attribute_id}->{quote.attribute_id}")
                if old.credit != quote.credit:
                    adjustments.append(f"credit:{old.credit}->{quote.credit}")
            body = build_create_payload(spec, quote)
            try:
                data = await self._call("POST", CREATE_PATH, op="create", json_body=body,
                                        language=spec.language,
                                        before_send=watch.sending if watch is not None else None)
            except ImaApiError as err:
                if err.kind in NOT_CREATED_KINDS and err.code in (429, 503):
                    err.params["not_created"] = "1"  # refused before any task existed: safe to send again
                if err.kind is ErrorKind.PROTOCOL:
                    # The server took the request but the reply is unreadable: a task may exist.
                    raise ImaApiError(err.detail, kind=ErrorKind.CREATE_UNCONFIRMED, code=err.code) from None
                if watch is not None and _nothing_created(err):
                    await watch.refused()
                plan = (plan_retry(err.kind, quote.leaf, spec.params, quote.inner_params)
                        if attempt < MAX_ATTEMPTS and _reflectable(err) else None)
                if plan is None:
                    err.params.setdefault("attempts", str(attempt))
                    raise
                log.info("create attempt %d failed (%s); retrying with %s", attempt, err.kind.value,
                         ", ".join(plan.adjustments) or "a reselected rule")
                adjustments.extend(plan.adjustments)
                spec = replace(spec, params=dict(plan.params))
                refresh = plan.refresh_catalog
                previous = (quote, err)
                continue
            task_id = str(data.get("id") or "") if isinstance(data, Mapping) else ""
            if not task_id:
                # Accepted without an id: a task may exist that we cannot poll, so never re-create.
                raise ImaApiError("create reply has no task id", kind=ErrorKind.CREATE_UNCONFIRMED)
            return CreatedTask(task_id=task_id, quote=quote, attempts=attempt, adjustments=tuple(adjustments))
        raise AssertionError("unreachable: the last attempt either returns or raises")

    async def get_task(self, task_id: str) -> TaskSnapshot:
        """One poll; transient failures raise typed errors and the caller decides about retrying."""
        data = await self._call("POST", DETAIL_PATH, op="detail", json_body={"task_id": task_id})
        return snapshot_from_detail(task_id, data)

    # ------------------------------------------------------------ media

    async def upload_file(self, path: Path, kind: AttachmentKind, content_type: str | None = None) -> str:
        size = await checked_size(path, self._config.max_upload_bytes)
        suffix, mime = suffix_and_type(path, kind, content_type)
        params = token_params(self._config.api_key, kind, suffix, mime, timestamp=int(self._clock.now()),
                              nonce=new_nonce())
        url = self._config.upload_base_url.rstrip("/") + UPLOAD_TOKEN_PATH
        data = await self._call("GET", url, op="upload_token", params=params, authenticated=False)
        ful = str(data.get("ful") or "") if isinstance(data, Mapping) else ""
        fdl = str(data.get("fdl") or "") if isinstance(data, Mapping) else ""
        if not ful or not fdl:
            raise ImaApiError("upload token reply lacks ful/fdl", kind=ErrorKind.PROTOCOL)
        started = time.perf_counter()
        request = self._requests.upload(ful, file_chunks(path, size), mime, size,
                                        timeout_s=self._config.upload_timeout_s)
        try:
            self._open()
            resp = await self._lanes.send("call", request)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, "upload_put") from None
        log.info("PUT %s -> %d (%d bytes, %.0f ms)", strip_query(ful), resp.status_code, size,
                 (time.perf_counter() - started) * 1000)
        if not 200 <= resp.status_code < 300:
            detail = f"upload PUT to {strip_query(ful)} answered HTTP {resp.status_code}"
            raise ima_errors.map_upload_refusal(resp.status_code, detail, secrets=self._secrets)
        return fdl

    async def verify_asset(self, url: str, name: str) -> VerifyResult:
        data = await self._call("POST", VERIFY_PATH, op="verify", json_body={"url": url, "name": name[:64]},
                                language="en", timeout_s=self._config.verify_timeout_s)
        result = data.get("result") if isinstance(data, Mapping) else None
        if not isinstance(result, Mapping):
            raise ImaApiError("verify reply lacks result", kind=ErrorKind.PROTOCOL)
        status = str(result.get("status") or "")
        error = result.get("error")
        if not isinstance(error, Mapping):
            error = {}
        code = error.get("code")
        return VerifyResult(
            status=status, passed=status.strip().lower() in VERIFY_PASS,
            error_code=str(code) if code not in (None, "", 0) else None,
            error_message=redact_text(str(error.get("message") or ""), self._secrets) or None,
        )

    # ------------------------------------------------------------ transport

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._config.api_key,)

    def _open(self) -> None:
        if not self._redacting:
            ima_errors.install_log_redaction(self._config.api_key)
            self._redacting = True
        self._lanes.open()

    async def _call(self, method: str, path_or_url: str, *, op: str, params: Mapping[str, str] | None = None,
                    json_body: Any = None, language: str | None = None, timeout_s: float | None = None,
                    authenticated: bool = True, before_send: BeforeSend | None = None) -> Any:
        """Send one request and return the envelope's ``data``; every failure is an ``ImaApiError``
        (or what ``before_send`` raised: then nothing was sent)."""
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            data, outcome = await self._exchange(method, path_or_url, op=op, params=params,
                                                 json_body=json_body, language=language, timeout_s=timeout_s,
                                                 authenticated=authenticated, before_send=before_send)
            return data
        except ImaApiError as err:
            outcome = _outcome_label(err)
            raise
        except Exception:
            outcome = "not_sent"  # before_send refused (its record could not be written)
            raise
        finally:
            self._telemetry.ima_call(op, outcome, time.perf_counter() - started)

    async def _exchange(self, method: str, path_or_url: str, *, op: str, params: Mapping[str, str] | None,
                        json_body: Any, language: str | None, timeout_s: float | None, authenticated: bool,
                        before_send: BeforeSend | None) -> tuple[Any, str]:
        started = time.perf_counter()
        content = None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        request = self._requests.build(method, path_or_url, params=params, content=content, language=language,
                                       authenticated=authenticated,
                                       timeout_s=timeout_s or self._config.request_timeout_s)
        try:
            self._open()
            # before_send runs after the queue, with the body built: the last moment
            resp = await self._lanes.send(_LANES.get(op, "call"), request, before_send)
            raw = resp.content
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, op) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        body = _parse_json(raw)
        code = body.get("code") if isinstance(body, Mapping) else None
        # Polls and catalog reads are frequent; creates and uploads are the events worth keeping.
        level = logging.DEBUG if op in ("detail", "product_list") else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "%s %s -> http %d code %s (%.0f ms)", method, strip_query(str(request.url)),
                    resp.status_code, code, elapsed_ms)
        if isinstance(body, Mapping) and "code" in body and is_success(code) and resp.status_code < 400:
            return body.get("data"), "ok"
        retry_after = ima_errors.parse_retry_after(resp.headers.get("Retry-After"), self._clock.now())
        if isinstance(body, Mapping) and "code" in body:
            message = str(body.get("message") or "")
            raise map_api_error(resp.status_code, code, message, retry_after=retry_after,
                                secrets=self._secrets, op=op)
        if resp.status_code >= 400:
            raise map_api_error(resp.status_code, None, f"{op}: HTTP {resp.status_code} without an envelope",
                                retry_after=retry_after, secrets=self._secrets, op=op)
        raise ImaApiError(f"{op}: reply is not a JSON envelope (HTTP {resp.status_code}, {len(raw)} bytes)",
                          kind=ErrorKind.PROTOCOL, code=resp.status_code)

    def _transport_error(self, exc: httpx.HTTPError, op: str) -> ImaApiError:
        error = ima_errors.map_transport_error(exc, op, secrets=self._secrets)
        log.warning("%s", error.detail)
        return error


_LANES: dict[str, Lane] = {"detail": "poll", "create": "create"}
_QUOTES_KEPT = 1024


def _quote_key(leaf: ProductLeaf, params: Mapping[str, Any]) -> Hashable | None:
    """Parameters and the leaf they apply to (None: a value that cannot be a key, such as a list)."""
    key = (id(leaf), tuple(sorted(params.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _outcome_label(err: ImaApiError) -> str:
    """A metric label for a failed call: the business code when the body had one, else the HTTP
    status, else the error kind (network, protocol, lost)."""
    if err.code is not None:
        prefix = "" if err.params.get("code_source") == "body" else "http_"
        return f"{prefix}{err.code}"
    return err.kind.value


def _nothing_created(err: ImaApiError) -> bool:
    """A create that provably made no task: refused by a business code, a 4xx or a 429/503 marked
    ``not_created``, or never connected (a transport failure after connecting is CREATE_*)."""
    if err.params.get("not_created") == "1" or err.params.get("code_source") == "body":
        return True
    return err.kind is ErrorKind.NETWORK or (isinstance(err.code, int) and 400 <= err.code < 500)


def _reflectable(err: ImaApiError) -> bool:
    # Only a business code says the server rejected the request; a bare HTTP 5xx from a gateway may
    # hide a task that was created, so it is never answered with another create.
    return err.kind in REFLECTABLE_KINDS and err.params.get("code_source") == "body"


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
