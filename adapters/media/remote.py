"""The one safe fetcher for every URL the bot downloads (SSRF guard): user links, platform attachments
(Discord CDN, Feishu resources) and result media for delivery. Implements ``core.media.ports.RemoteFetcher``.

Every hop (the first URL and each redirect) is checked: scheme, no credentials, no internal host
names, and every address the host resolves to must be public. The request is then sent to the
checked address itself (Host header and TLS SNI keep the name), so a second DNS answer cannot
swap in an internal address. Sizes are capped by Content-Length and again while streaming
(``MediaTooLargeError``: "too large", not "download failed").

Operator-configured origins (a local IMA simulator) and, per call, a platform's own hosts (its CDN, a
fake on loopback) are trusted BY NAME: only the address check is skipped for them, and a redirect from
them to any other host is checked like every first URL, so they can never lead into private space.
Request headers (a platform token) are sent only to the first URL's origin, never to a redirect target.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from adapters.streaming import save_capped
from core.media.ports import MediaTooLargeError, RemoteFetchError, UnsafeUrlError, UnsafeUrlReason

if TYPE_CHECKING:  # httpx loads with the first download: a platform connects without it
    import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the IP addresses (as text) the host resolves to."""

_BLOCKED_NAMES = ("localhost",)
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ERROR_BODY_BYTES = 4096


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address are judged by that address too.
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(v4 is not None and not is_public_address(v4) for v4 in embedded):
            return False
        if address.ipv4_mapped is not None:
            return True
    # is_global is False for private, loopback, link-local, reserved, unspecified, CGNAT (100.64/10)
    # and documentation ranges; multicast can still be "global", so it is excluded separately.
    return address.is_global and not address.is_multicast


class SafeRemoteFetcher:
    def __init__(self, client: httpx.AsyncClient | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None, resolver: Resolver = system_resolver,
                 timeout_s: float = 30.0, max_redirects: int = 5,
                 trusted_origins: frozenset[str] = frozenset()) -> None:
        """``trusted_origins`` ("http://127.0.0.1:8765") are operator-configured hosts, e.g. a local
        IMA simulator whose result URLs a user may send back; they skip the address check only."""
        self._given, self._transport = client, transport
        self._made: httpx.AsyncClient | None = None
        self._trusted = frozenset(_origin(o) for o in trusted_origins)
        self._resolver = resolver
        self._timeout_s = timeout_s
        self._max_redirects = max_redirects

    async def __aenter__(self) -> SafeRemoteFetcher:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.aclose()
            self._made = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """Made on first use: its TLS context costs start-up time (tens of ms) that no download needs."""
        if self._given is not None:
            return self._given
        if self._made is None:
            import httpx

            self._made = httpx.AsyncClient(transport=self._transport, follow_redirects=False, trust_env=False)
        return self._made

    async def fetch(self, url: str, dest_dir: Path, max_bytes: int, *,
                    trusted_hosts: frozenset[str] = frozenset(), headers: Mapping[str, str] | None = None,
                    name: str | None = None) -> Path:
        """Download ``url`` to ``dest_dir / name``. ``trusted_hosts``: host names (any port) this call
        may reach without the public-address check (a platform's CDN or API host); ``headers`` go to
        the first URL's origin only. Raises ``UnsafeUrlError``, ``MediaTooLargeError`` or
        ``RemoteFetchError`` (``code`` = HTTP status, ``params['code']`` = a JSON body's own code)."""
        import httpx

        dest = dest_dir / (name or ("download" + _suffix_of(url)))
        trusted = frozenset(h.rstrip(".").lower() for h in trusted_hosts)
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._follow(url, dest, max_bytes, trusted, dict(headers or {}))
        except TimeoutError as exc:
            await _discard(dest)
            raise RemoteFetchError(f"{_host(url)}: timed out after {self._timeout_s:g}s") from exc
        except httpx.HTTPError as exc:
            await _discard(dest)
            raise RemoteFetchError(f"{_host(url)}: {type(exc).__name__}") from exc
        except MediaTooLargeError:
            await _discard(dest)
            raise
        return dest

    async def _follow(self, url: str, dest: Path, max_bytes: int, trusted: frozenset[str],
                      headers: dict[str, str]) -> None:
        current, first_origin = url, _origin(url)
        for _ in range(self._max_redirects + 1):
            target, host, sni = await self._checked_target(current, trusted)
            extensions = {"sni_hostname": sni} if sni else {}
            sent = {**(headers if _origin(current) == first_origin else {}), "Host": host}
            request = self._client.build_request("GET", target, headers=sent, extensions=extensions)
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if not response.is_success:
                    raise RemoteFetchError(f"{_host(current)}: HTTP {response.status_code}",
                                           code=response.status_code,
                                           params={"code": await _body_code(response)})
                await save_capped(response, dest, max_bytes)
                return
            finally:
                await response.aclose()
        raise UnsafeUrlError(f"{_host(url)}: more than {self._max_redirects} redirects",
                             reason=UnsafeUrlReason.TOO_MANY_REDIRECTS)

    async def _checked_target(self, url: str, trusted: frozenset[str]) -> tuple[str, str, str | None]:
        """Validate one hop; return the URL rewritten to a checked address, the Host header and
        the TLS server name (None when the URL already names an address)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UnsafeUrlError(f"scheme {scheme!r}", reason=UnsafeUrlReason.SCHEME)
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrlError(f"{_host(url)}: credentials in URL", reason=UnsafeUrlReason.CREDENTIALS)
        host = (parts.hostname or "").rstrip(".").lower()
        if _origin(url) in self._trusted or host in trusted:
            return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, "")), parts.netloc, None
        if not host or host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES):
            raise UnsafeUrlError(f"{host or '?'}: internal host name", reason=UnsafeUrlReason.HOST_NAME)
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise UnsafeUrlError(f"{host}: bad port", reason=UnsafeUrlReason.SCHEME) from exc
        sni: str | None = None
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await self._resolve(host, port)
            sni = host
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise UnsafeUrlError(f"{host}: non-public address", reason=UnsafeUrlReason.PRIVATE_ADDRESS)
        pinned = addresses[0]
        literal = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        named = f"[{host}]" if ":" in host else host
        host_header = f"{named}:{parts.port}" if parts.port else named
        return urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host_header, sni

    async def _resolve(self, host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            raw = await self._resolver(host, port)
            return [ipaddress.ip_address(a.split("%")[0]) for a in raw]
        except (OSError, ValueError) as exc:
            raise UnsafeUrlError(f"{host}: cannot resolve", reason=UnsafeUrlReason.UNRESOLVABLE) from exc


async def _body_code(response: httpx.Response) -> str:
    """A platform's own error code from a small JSON error body (e.g. Feishu's 234043), else ""."""
    import httpx

    body = b""
    with contextlib.suppress(httpx.HTTPError):
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= _ERROR_BODY_BYTES:
                break
    try:
        value = json.loads(body[:_ERROR_BODY_BYTES])
    except (ValueError, UnicodeDecodeError):
        return ""
    code = value.get("code") if isinstance(value, dict) else None
    return str(code) if code is not None else ""


async def _discard(path: Path) -> None:
    await asyncio.to_thread(path.unlink, True)


def _suffix_of(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ""


def _host(url: str) -> str:
    # Only the host goes into errors and logs: paths and queries may hold signatures or tokens.
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return ""
    return f"{scheme}://{(parts.hostname or '').rstrip('.').lower()}:{port}"
