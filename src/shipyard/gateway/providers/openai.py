"""``openai``: any upstream that speaks the OpenAI HTTP API (OpenAI, vLLM, Ollama, a llama.cpp
server, another gateway). Requests pass through with the model swapped; streams pass through
chunk by chunk."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from yarl import URL

from shipyard.gateway.providers.base import Call, Failure, Provider, ProviderOptions, register
from shipyard.gateway.schemas import (
    Chunk,
    Embeddings,
    Generation,
    Usage,
    estimate_tokens,
)

PATHS = {
    "chat": "/chat/completions",
    "text_completion": "/completions",
    "embeddings": "/embeddings",
}
# Fields that steer the gateway and mean nothing (or something else) to an upstream.
GATEWAY_ONLY = ("metadata",)


class OpenAIOptions(ProviderOptions):
    base_url: str | None = "https://api.openai.com/v1"
    organization: str | None = None


def error_detail(body: bytes) -> tuple[str, str | None]:
    """The message (and code) of an upstream's error body, whatever its shape."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode("utf-8", "replace") or "(empty body)", None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)[:500], _str(err.get("code") or err.get("type"))
    if isinstance(err, str):
        return err[:500], None
    return str(data)[:300], None


def _str(v: Any) -> str | None:
    return str(v) if v is not None else None


def status_failure(upstream: str, status: int, payload: bytes, headers: Any) -> Failure:
    """The failure for a non-200 answer, with the upstream's own message and Retry-After."""
    detail, code = error_detail(payload)
    return Failure.from_status(
        upstream, status, detail, code=code, retry_after_s=retry_after(headers)
    )


@contextlib.asynccontextmanager
async def translated(upstream: str, timeout_s: float, stream: bool = False) -> AsyncIterator[None]:
    """Timeouts and connection errors of an upstream call, as retryable failures."""
    try:
        yield
    except TimeoutError:
        what = "went quiet for" if stream else "did not answer within"
        raise Failure(
            f"upstream {upstream!r} {what} {timeout_s:g} s", retryable=True, timeout=True
        ) from None
    except aiohttp.ClientError as exc:
        what = "stream broke" if stream else "cannot be reached"
        raise Failure(f"upstream {upstream!r} {what}: {exc}", retryable=True) from None


def retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@register
class OpenAIProvider(Provider):
    kind = "openai"
    Options = OpenAIOptions
    supports_tools = True
    operations = frozenset({"chat", "text_completion", "embeddings"})

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._urls: dict[str, URL] = {}
        self._header_cache: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        if self._header_cache is not None:
            return self._header_cache
        headers = {"content-type": "application/json", **self.options.headers}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        org = getattr(self.options, "organization", None)
        if org:
            headers["openai-organization"] = org
        self._header_cache = headers
        return headers

    def _url(self, operation: str) -> URL:
        found = self._urls.get(operation)
        if found is None:  # parsed once per upstream, not on every call
            base = (self.options.base_url or "").rstrip("/")
            found = self._urls[operation] = URL(base + PATHS[operation])
        return found

    def _body(self, call: Call, model: str, stream: bool = False) -> bytes:
        body = {k: v for k, v in call.raw.items() if k not in GATEWAY_ONLY}
        body["model"] = model
        body.update(call.overrides)
        if call.operation == "embeddings":
            body["encoding_format"] = "float"  # the gateway encodes for its own caller
        if stream:
            body["stream"] = True
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(body)

    async def _post(self, call: Call, model: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=call.timeout_s)
        async with translated(self.name, call.timeout_s), self.ctx.http.session().post(
            self._url(call.operation), data=self._body(call, model), headers=self._headers(),
            timeout=timeout,
        ) as resp:  # fmt: skip
            payload = await resp.read()
            if resp.status != 200:
                raise status_failure(self.name, resp.status, payload, resp.headers)
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise Failure(
                f"upstream {self.name!r} answered with something that is not JSON: "
                f"{payload[:120].decode('utf-8', 'replace')!r}",
                retryable=True,
            ) from None
        if not isinstance(data, dict):
            raise Failure(f"upstream {self.name!r} answered with a non-object", retryable=True)
        return data

    async def generate(self, call: Call, model: str) -> Generation:
        data = await self._post(call, model)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise Failure(f"upstream {self.name!r} answered without choices", retryable=True)
        texts: list[str] = []
        reasons: list[str] = []
        for c in choices:
            if not isinstance(c, dict):
                raise Failure(f"upstream {self.name!r} sent a malformed choice", retryable=True)
            if call.operation == "chat":
                msg = c.get("message") or {}
                texts.append(str(msg.get("content") or "") if isinstance(msg, dict) else "")
            else:
                texts.append(str(c.get("text") or ""))
            reasons.append(str(c.get("finish_reason") or ""))
        text = "\n".join(texts)
        usage = Usage.from_openai(data.get("usage"))
        if usage is None:
            usage = Usage(estimate_tokens(str(call.raw)), estimate_tokens(text), estimated=True)
            data["usage"] = usage.openai()
        return Generation(data, usage, text, str(data.get("model") or model), reasons)

    async def stream(self, call: Call, model: str) -> AsyncIterator[Chunk]:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=call.timeout_s, sock_read=call.timeout_s
        )
        async with translated(self.name, call.timeout_s, stream=True), self.ctx.http.session(
        ).post(
            self._url(call.operation), data=self._body(call, model, stream=True),
            headers=self._headers(), timeout=timeout,
        ) as resp:  # fmt: skip
            if resp.status != 200:
                raise status_failure(self.name, resp.status, await resp.read(), resp.headers)
            async for chunk in self._events(resp, call):
                yield chunk

    async def _events(self, resp: aiohttp.ClientResponse, call: Call) -> AsyncIterator[Chunk]:
        chat = call.operation == "chat"
        async for line in resp.content:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            try:
                body = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise Failure(
                    f"upstream {self.name!r} streamed something that is not JSON",
                    retryable=True,
                ) from None
            if not isinstance(body, dict):
                raise Failure(f"upstream {self.name!r} streamed a non-object", retryable=True)
            if "error" in body:
                detail, code = error_detail(data)
                raise Failure(f"upstream {self.name!r} failed mid-stream: {detail}", code=code)
            yield _chunk(body, chat)

    async def embed(self, call: Call, model: str) -> Embeddings:
        data = await self._post(call, model)
        items = data.get("data")
        if not isinstance(items, list):
            raise Failure(f"upstream {self.name!r} answered without data", retryable=True)
        vectors: list[list[float]] = []
        for item in sorted(items, key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0):
            vec = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(vec, list):
                raise Failure(
                    f"upstream {self.name!r} sent an embedding that is not a list of floats "
                    "(ask for encoding_format=float)",
                    retryable=True,
                )
            vectors.append(vec)
        usage = Usage.from_openai(data.get("usage")) or Usage(
            sum(estimate_tokens(t) for t in call.embedding.texts()), estimated=True
        )
        return Embeddings(vectors, usage, str(data.get("model") or model))


def _chunk(body: dict[str, Any], chat: bool) -> Chunk:
    text = ""
    finish = None
    choices = body.get("choices")
    if isinstance(choices, list):
        for c in choices:
            if not isinstance(c, dict):
                continue
            if chat:
                delta = c.get("delta")
                if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                    text += delta["content"]
            elif isinstance(c.get("text"), str):
                text += c["text"]
            finish = c.get("finish_reason") or finish
    usage = Usage.from_openai(body["usage"]) if body.get("usage") else None
    return Chunk(body, text, usage, finish)
