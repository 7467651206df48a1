"""SafeRemoteFetcher: only public http(s), every hop re-checked, byte caps while streaming.

The transport is an in-process httpx.MockTransport and the resolver a table, so a test can play a
"public" host without any socket being opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path

import httpx
import pytest

from adapters.media.remote import SafeRemoteFetcher
from core.media.ports import MediaTooLargeError, RemoteFetchError, UnsafeUrlError, UnsafeUrlReason

PUBLIC_IP = "93.184.216.34"
DNS = {"cdn.example.com": [PUBLIC_IP], "other.example.org": ["151.101.1.69"],
       "rebind.example.com": ["10.0.0.7"], "mixed.example.com": [PUBLIC_IP, "127.0.0.1"]}
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


async def table_resolver(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError(f"no such host {host}")
    return DNS[host]


class Server:
    """Records what reached the "network" and answers per path."""

    def __init__(self, routes: dict[str, Callable[[], httpx.Response]] | None = None) -> None:
        self.routes = routes or {}
        self.seen: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        make = self.routes.get(request.url.path)
        return make() if make else httpx.Response(404)


def fetcher_for(server: Handler, timeout_s: float = 30.0) -> SafeRemoteFetcher:
    return SafeRemoteFetcher(transport=httpx.MockTransport(server), resolver=table_resolver,
                             timeout_s=timeout_s)


async def test_public_url_is_fetched_through_the_checked_address(tmp_path: Path) -> None:
    server = Server({"/pics/cat.png": lambda: httpx.Response(200, content=b"PNGDATA")})
    async with fetcher_for(server) as fetcher:
        path = await fetcher.fetch("https://cdn.example.com/pics/cat.png", tmp_path, 1000)
    assert path.read_bytes() == b"PNGDATA" and path.suffix == ".png"
    (request,) = server.seen
    assert request.url.host == PUBLIC_IP  # pinned: no second DNS lookup can change the target
    assert request.headers["host"] == "cdn.example.com"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.png", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/a.png",
    "http://172.16.0.1/a.png", "http://192.168.1.10/a.png", "http://100.64.0.1/a.png", "http://0.0.0.0/a",
    "http://224.0.0.1/a", "http://240.0.0.1/a", "http://255.255.255.255/a", "http://[::1]/a.png",
    "http://[fe80::1]/a.png", "http://[fc00::1]/a.png", "http://[::ffff:127.0.0.1]/a.png",
    "http://[64:ff9b::a9fe:a9fe]/latest/", "http://[2002:7f00:1::1]/a.png", "http://[2001:db8::1]/a.png",
    "http://rebind.example.com/a.png", "http://mixed.example.com/a.png",
])
async def test_non_public_addresses_are_refused_before_any_request(url: str, tmp_path: Path) -> None:
    server = Server()
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(server).fetch(url, tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.PRIVATE_ADDRESS
    assert server.seen == []


@pytest.mark.parametrize("url", [
    "http://localhost/a.png", "http://LOCALHOST./a.png", "http://printer.local/a.png",
    "http://metadata.google.internal/a", "http://nas.home.arpa/a.mp4", "http://box.localdomain/a",
    "http://api.localhost/a",
])
async def test_internal_host_names_are_refused(url: str, tmp_path: Path) -> None:
    server = Server()
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(server).fetch(url, tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.HOST_NAME and server.seen == []


async def test_credentials_in_the_url_are_refused_and_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(Server()).fetch("https://bob:s3cret@cdn.example.com/a.png", tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.CREDENTIALS
    assert "s3cret" not in str(caught.value) and "bob" not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://cdn.example.com/a.png", "file:///etc/passwd", "gopher://x/"])
async def test_only_http_and_https(url: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(Server()).fetch(url, tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.SCHEME


async def test_unresolvable_host(tmp_path: Path) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(Server()).fetch("https://nowhere.example.net/a.png", tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.UNRESOLVABLE


def redirect(to: str) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(302, headers={"location": to})


async def test_redirect_to_another_public_host_is_followed(tmp_path: Path) -> None:
    server = Server({"/start": redirect("https://other.example.org/final.mp4"),
                     "/final.mp4": lambda: httpx.Response(200, content=b"MP4")})
    path = await fetcher_for(server).fetch("https://cdn.example.com/start", tmp_path, 1000)
    assert path.read_bytes() == b"MP4"
    assert [(r.url.host, r.headers["host"]) for r in server.seen] == [
        (PUBLIC_IP, "cdn.example.com"), ("151.101.1.69", "other.example.org")]


@pytest.mark.parametrize("target", ["http://127.0.0.1/admin", "http://169.254.169.254/latest/",
                                    "http://localhost:8080/x", "http://rebind.example.com/x"])
async def test_redirect_to_an_internal_address_is_refused(target: str, tmp_path: Path) -> None:
    server = Server({"/start": redirect(target)})
    with pytest.raises(UnsafeUrlError):
        await fetcher_for(server).fetch("https://cdn.example.com/start", tmp_path, 1000)
    assert len(server.seen) == 1  # the internal hop was never requested


def chain(hops: int) -> dict[str, Callable[[], httpx.Response]]:
    routes = {f"/hop{i}": redirect(f"/hop{i + 1}") for i in range(hops)}
    routes[f"/hop{hops}"] = lambda: httpx.Response(200, content=b"done")
    return routes


async def test_five_redirects_are_allowed(tmp_path: Path) -> None:
    path = await fetcher_for(Server(chain(5))).fetch("https://cdn.example.com/hop0", tmp_path, 1000)
    assert path.read_bytes() == b"done"


async def test_six_redirects_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        await fetcher_for(Server(chain(6))).fetch("https://cdn.example.com/hop0", tmp_path, 1000)
    assert caught.value.reason == UnsafeUrlReason.TOO_MANY_REDIRECTS


async def test_content_length_over_the_cap_is_refused_up_front(tmp_path: Path) -> None:
    server = Server({"/big.mp4": lambda: httpx.Response(200, content=b"x" * 1001)})
    with pytest.raises(MediaTooLargeError) as caught:
        await fetcher_for(server).fetch("https://cdn.example.com/big.mp4", tmp_path, 1000)
    assert (caught.value.limit_bytes, caught.value.size_bytes) == (1000, 1001)


async def body(total: int, chunk: int = 300) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        part = min(chunk, total - sent)
        sent += part
        yield b"y" * part


async def test_cap_is_enforced_while_streaming_without_content_length(tmp_path: Path) -> None:
    exact = Server({"/a.wav": lambda: httpx.Response(200, content=body(1000))})
    path = await fetcher_for(exact).fetch("https://cdn.example.com/a.wav", tmp_path, 1000)
    assert path.stat().st_size == 1000
    over = Server({"/a.wav": lambda: httpx.Response(200, content=body(1001))})
    with pytest.raises(MediaTooLargeError):
        await fetcher_for(over).fetch("https://cdn.example.com/a.wav", tmp_path, 1000)


async def test_http_errors_become_fetch_errors(tmp_path: Path) -> None:
    with pytest.raises(RemoteFetchError) as caught:
        await fetcher_for(Server()).fetch("https://cdn.example.com/missing.png?sig=abc", tmp_path, 1000)
    assert "sig=abc" not in str(caught.value)


async def test_transport_failures_become_fetch_errors(tmp_path: Path) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RemoteFetchError):
        await fetcher_for(refuse).fetch("https://cdn.example.com/a.png", tmp_path, 1000)


async def test_a_stalled_server_hits_the_time_limit(tmp_path: Path) -> None:
    never = asyncio.Event()

    async def stall(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(200)

    with pytest.raises(RemoteFetchError, match="timed out"):
        await fetcher_for(stall, timeout_s=0.01).fetch("https://cdn.example.com/a.png", tmp_path, 1000)


async def test_trusted_origins_skip_only_the_address_check(tmp_path: Path) -> None:
    server = Server({"/_sim/media/cover.jpg": lambda: httpx.Response(200, content=b"JPG")})
    fetcher = SafeRemoteFetcher(transport=httpx.MockTransport(server), resolver=table_resolver,
                                trusted_origins=frozenset({"http://127.0.0.1:8765", "http://localhost:9000"}))
    path = await fetcher.fetch("http://127.0.0.1:8765/_sim/media/cover.jpg", tmp_path, 1000)
    assert path.read_bytes() == b"JPG"
    assert (await fetcher.fetch("http://localhost:9000/_sim/media/cover.jpg", tmp_path, 1000)).exists()
    for url in ("http://127.0.0.1:8766/x.jpg", "http://127.0.0.1/x.jpg", "http://u:p@127.0.0.1:8765/x.jpg"):
        with pytest.raises(UnsafeUrlError):
            await fetcher.fetch(url, tmp_path, 1000)


def test_public_addresses_pass_the_check() -> None:
    import ipaddress

    from adapters.media.remote import is_public_address

    for text in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34",
                 "64:ff9b::5db8:d822"):
        assert is_public_address(ipaddress.ip_address(text)), text


async def test_a_platform_host_is_trusted_by_name_but_its_redirect_into_private_space_is_not(
        tmp_path: Path) -> None:
    """A platform's own host (here a loopback fake CDN) needs no public address; where it redirects to
    is checked like any first URL: 10.0.0.1 is refused before anything connects to it."""
    server = Server({"/att/cat.png": lambda: httpx.Response(302, headers={"location": "http://10.0.0.1/x.png"}),
                     "/att/ok.png": lambda: httpx.Response(200, content=b"OK")})
    async with fetcher_for(server) as fetcher:
        trusted = frozenset({"127.0.0.1"})
        ok = await fetcher.fetch("http://127.0.0.1:8081/att/ok.png", tmp_path, 100, trusted_hosts=trusted)
        with pytest.raises(UnsafeUrlError) as refused:
            await fetcher.fetch("http://127.0.0.1:8081/att/cat.png", tmp_path, 100, trusted_hosts=trusted)
        with pytest.raises(UnsafeUrlError):  # without the per-call trust, loopback is refused outright
            await fetcher.fetch("http://127.0.0.1:8081/att/ok.png", tmp_path, 100)
    assert ok.read_bytes() == b"OK"
    assert refused.value.reason == UnsafeUrlReason.PRIVATE_ADDRESS
    assert [r.url.host for r in server.seen] == ["127.0.0.1", "127.0.0.1"]


async def test_headers_go_only_to_the_first_origin_and_error_bodies_give_their_code(tmp_path: Path) -> None:
    server = Server({"/r": lambda: httpx.Response(302, headers={"location": "https://cdn.example.com/f.png"}),
                     "/f.png": lambda: httpx.Response(200, content=b"F"),
                     "/gone": lambda: httpx.Response(400, json={"code": 234043, "msg": "forwarded"})})
    async with fetcher_for(server) as fetcher:
        token = {"Authorization": "Bearer t-secret"}
        await fetcher.fetch("https://other.example.org/r", tmp_path, 100, headers=token)
        with pytest.raises(RemoteFetchError) as failed:
            await fetcher.fetch("https://other.example.org/gone", tmp_path, 100, headers=token)
    first, second, third = server.seen
    assert first.headers["authorization"] == "Bearer t-secret"
    assert "authorization" not in second.headers  # never forwarded to a redirect target
    assert third.headers["authorization"] == "Bearer t-secret"
    assert failed.value.code == 400 and failed.value.params["code"] == "234043"
