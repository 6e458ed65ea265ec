"""Embedders behind an OpenAI-shaped ``/v1/embeddings``: ``openai`` (any endpoint: OpenAI,
vLLM, Ollama, another Shipyard) and ``gateway`` (a route of the gateway this code runs with,
so the call is traced, cached and counted like any other)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import Field

from shipyard.core.errors import InvalidInput, UpstreamError
from shipyard.rag.embedders.base import Embedder, EmbedderOptions, register_embedder

if TYPE_CHECKING:
    import numpy as np

GatewayCall = Callable[[dict[str, Any]], dict[str, Any]]


def _vectors(reply: dict[str, Any], expected: int) -> np.ndarray:
    import numpy as np

    data = reply.get("data")
    if not isinstance(data, list) or len(data) != expected:
        raise UpstreamError(f"the embeddings endpoint answered {len(data or [])} vectors "
                            f"for {expected} texts")  # fmt: skip
    rows: list[Any] = [None] * expected
    for item in data:
        vec = item.get("embedding")
        if isinstance(vec, str):
            vec = np.frombuffer(base64.b64decode(vec), dtype=np.float32)
        rows[int(item.get("index", 0))] = vec
    out = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


class _Batched(Embedder):
    _dims: int | None = None

    @property
    def dims(self) -> int:
        if self._dims is None:
            self._dims = int(self.embed(["dimension probe"]).shape[1])
        return self._dims

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        size = self.options.batch_size
        parts = [self._call(texts[i : i + size]) for i in range(0, len(texts), size)]
        if not parts:
            return np.zeros((0, self._dims or 0), dtype=np.float32)
        out = np.concatenate(parts)
        self._dims = int(out.shape[1])
        return out

    def _call(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class OpenAIOptions(EmbedderOptions):
    model: str
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = Field("OPENAI_API_KEY", description="the variable that holds the key")
    batch_size: int = Field(64, ge=1, le=2048)
    timeout_s: float = Field(60.0, gt=0)


@register_embedder
class OpenAIEmbedder(_Batched):
    kind = "openai"
    Options = OpenAIOptions
    _http: httpx.Client | None = None

    def config(self) -> dict[str, Any]:
        o = self.options
        return {"type": self.kind, "model": o.model, "base_url": o.base_url,
                "api_key_env": o.api_key_env}  # fmt: skip

    @property
    def id(self) -> str:
        return f"openai:{self.options.base_url.rstrip('/')}:{self.options.model}"

    def _call(self, texts: list[str]) -> np.ndarray:
        if self._http is None:
            self._http = httpx.Client(timeout=self.options.timeout_s)
        headers = {}
        key = os.environ.get(self.options.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = self.options.base_url.rstrip("/") + "/embeddings"
        try:
            resp = self._http.post(url, json={"model": self.options.model, "input": texts},
                                   headers=headers)  # fmt: skip
        except httpx.HTTPError as exc:
            raise UpstreamError(f"embeddings endpoint {url} unreachable: {exc}") from None
        if resp.status_code >= 400:
            raise UpstreamError(
                f"embeddings endpoint {url} answered {resp.status_code}: {resp.text[:300]}"
            )
        return _vectors(resp.json(), len(texts))

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


class GatewayOptions(EmbedderOptions):
    route: str = Field(description="a gateway route (or model) that serves embeddings")
    batch_size: int = Field(64, ge=1, le=2048)


@register_embedder
class GatewayEmbedder(_Batched):
    """``context`` is a callable that sends one ``/v1/embeddings`` body to the gateway."""

    kind = "gateway"
    Options = GatewayOptions

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "route": self.options.route}

    @property
    def id(self) -> str:
        return f"gateway:{self.options.route}"

    def _call(self, texts: list[str]) -> np.ndarray:
        if not callable(self.context):
            raise InvalidInput("the gateway embedder needs a gateway to call")
        body = {"model": self.options.route, "input": texts}
        return _vectors(self.context(body), len(texts))
