"""One pooled HTTP connection to a Shipyard server, with errors mapped back to ShipyardError."""

from __future__ import annotations

import json as stdjson
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from shipyard.core.errors import RemoteError, error_from_body
from shipyard.core.settings import ClientSettings
from shipyard.store.artifacts import CHUNK


class Transport:
    def __init__(self, settings: ClientSettings) -> None:
        self.base_url = settings.url.rstrip("/")
        headers = {"User-Agent": "shipyard-sdk"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=settings.timeout_s,
            limits=httpx.Limits(max_keepalive_connections=8, max_connections=32),
        )

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request; an error status raises the matching ShipyardError."""
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach Shipyard at {self.base_url}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                body = orjson.loads(resp.content)
            except orjson.JSONDecodeError:
                body = resp.text
            raise error_from_body(resp.status_code, body)
        return resp

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        kw: dict[str, Any] = {"headers": dict(headers or {})}
        if timeout is not None:
            kw["timeout"] = timeout
        if json is not None:
            kw["content"] = _dumps(json)
            kw["headers"]["Content-Type"] = "application/json"
        if params:
            kw["params"] = params
        resp = self.send(method, path, **kw)
        if not resp.content:
            return None
        return _loads(resp.content)

    def upload(self, method: str, path: str, source: Path) -> Any:
        def chunks() -> Iterator[bytes]:
            with source.open("rb") as f:
                yield from iter(lambda: f.read(CHUNK), b"")

        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(source.stat().st_size),
        }
        resp = self.send(method, path, content=chunks(), headers=headers)
        return _loads(resp.content)

    def download(self, path: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._http.stream("GET", path) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise error_from_body(resp.status_code, _json_or_text(resp))
                with dest.open("wb") as out:
                    for block in resp.iter_bytes(CHUNK):
                        out.write(block)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach Shipyard at {self.base_url}: {exc}") from exc
        return dest


def _json_or_text(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return resp.text


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers beyond 64 bits: the standard library writes them
        return stdjson.dumps(obj).encode()


def _loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return stdjson.loads(data)
