"""The IMA client's requests as ``httpx.Request``s: headers per language, URLs per path and timeouts are
built once and reused (a status poll is sent hundreds of times a second)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from importlib import metadata

import httpx

# What httpx.AsyncClient adds to every request by default: the requests on the wire stay as they were.
BASE_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}


def user_agent() -> str:
    try:
        return f"imabot/{metadata.version('imabot')}"
    except metadata.PackageNotFoundError:
        return "imabot/0"


class RequestFactory:
    """Requests for one API key. The key sits in the cached headers only (``httpx.Headers`` masks it in
    its ``repr``)."""

    def __init__(self, base_url: str, api_key: str, *, app_source: str, language: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key, self._app_source, self._language = api_key, app_source, language
        self.user_agent = user_agent()
        self._headers: dict[str | None, httpx.Headers] = {}
        self._urls: dict[str, httpx.URL] = {}
        self._timeouts: dict[float, dict[str, float | None]] = {}

    def build(self, method: str, path_or_url: str, *, timeout_s: float, content: bytes | None = None,
              params: Mapping[str, str] | None = None, language: str | None = None,
              authenticated: bool = True) -> httpx.Request:
        return httpx.Request(method, self.url(path_or_url), params=params,
                             headers=self.headers(language, authenticated), content=content,
                             extensions={"timeout": self.timeout(timeout_s)})

    def upload(self, url: str, content: AsyncIterable[bytes], content_type: str, size: int, *,
               timeout_s: float) -> httpx.Request:
        """The PUT of a file's bytes to its signed upload URL (no API key: the URL is the credential)."""
        headers = {**BASE_HEADERS, "User-Agent": self.user_agent, "Content-Type": content_type,
                   "Content-Length": str(size)}
        return httpx.Request("PUT", url, content=content, headers=headers,
                             extensions={"timeout": self.timeout(timeout_s)})

    def headers(self, language: str | None, authenticated: bool) -> httpx.Headers:
        """Built once per language (``None``: unauthenticated); each request copies them."""
        key = (language or self._language) if authenticated else None
        headers = self._headers.get(key)
        if headers is None:
            values = {**BASE_HEADERS, "User-Agent": self.user_agent}
            if key is not None:
                values |= {"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json",
                           "x-app-source": self._app_source, "x_app_language": key}
            headers = self._headers[key] = httpx.Headers(values)
        return headers

    def url(self, path_or_url: str) -> httpx.URL:
        """Parsed once per IMA path; any other URL (a signed upload URL) each time."""
        if "://" in path_or_url:
            return httpx.URL(path_or_url)
        url = self._urls.get(path_or_url)
        if url is None:
            url = self._urls[path_or_url] = httpx.URL(self._base_url + path_or_url)
        return url

    def timeout(self, seconds: float) -> dict[str, float | None]:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = httpx.Timeout(seconds).as_dict()
        return timeout
