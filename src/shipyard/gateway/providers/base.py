"""The provider interface: one small class per kind of upstream, registered by name.

    class Provider:
        generate(call, model) -> Generation        a whole answer
        stream(call, model)   -> AsyncIterator[Chunk]
        embed(call, model)    -> Embeddings
        close()

A provider raises :class:`Failure` when an upstream call fails; the router decides from its
fields whether to retry, fall back to the next target, or give up.
Third-party providers register through the ``shipyard.providers`` entry-point group.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.gateway.http import HttpPool
from shipyard.gateway.schemas import (
    ChatRequest,
    Chunk,
    CompletionRequest,
    EmbeddingRequest,
    Embeddings,
    Generation,
    Operation,
)


class Failure(Exception):
    """An upstream call that did not work.

    ``retryable``: worth trying again (429, 5xx, timeouts, garbage). ``client_fault``: the
    request itself was refused (a 400 from the upstream) — no other target will do better."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        client_fault: bool = False,
        timeout: bool = False,
        retry_after_s: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.client_fault = client_fault
        self.timeout = timeout
        self.retry_after_s = retry_after_s
        self.code = code

    @classmethod
    def from_status(cls, upstream: str, status: int, detail: str, **kw: Any) -> Failure:
        retryable = status in (408, 409, 425, 429) or status >= 500
        client_fault = status in (400, 413, 422)
        return cls(
            f"upstream {upstream!r} answered HTTP {status}: {detail[:500]}",
            status=status,
            retryable=retryable,
            client_fault=client_fault,
            **kw,
        )


@dataclass(slots=True)
class Call:
    """One request on its way to a provider."""

    operation: Operation
    request: ChatRequest | CompletionRequest | EmbeddingRequest
    raw: dict[str, Any]  # the body as sent, for pass-through of parameters Shipyard does not model
    timeout_s: float = 60.0
    overrides: dict[str, Any] = field(default_factory=dict)  # set by hooks (e.g. max_tokens)
    scratch: dict[str, Any] = field(default_factory=dict)  # the gateway's notes on this call

    @property
    def chat(self) -> ChatRequest:
        assert isinstance(self.request, ChatRequest)
        return self.request

    @property
    def completion(self) -> CompletionRequest:
        assert isinstance(self.request, CompletionRequest)
        return self.request

    @property
    def embedding(self) -> EmbeddingRequest:
        assert isinstance(self.request, EmbeddingRequest)
        return self.request

    def max_output(self) -> int | None:
        if "max_tokens" in self.overrides:
            return int(self.overrides["max_tokens"])
        req = self.request
        if isinstance(req, ChatRequest | CompletionRequest):
            return req.output_limit()
        return None


class ProviderOptions(BaseModel):
    """Options every upstream has; providers extend this with their own."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None
    headers: dict[str, str] = {}


@dataclass(slots=True)
class ProviderContext:
    """What a provider may use: the shared connection pool and deployment settings."""

    http: HttpPool
    settings: Any  # shipyard.core.settings.Settings
    # Loaded models and other heavy things shared by every upstream that uses them.
    resources: dict[str, Any] = field(default_factory=dict)


class Provider(ABC):
    kind: ClassVar[str]
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions
    needs_api_key: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = False
    operations: ClassVar[frozenset[str]] = frozenset({"chat", "text_completion"})

    def __init__(
        self, name: str, options: ProviderOptions, api_key: str | None, ctx: ProviderContext
    ) -> None:
        self.name = name
        self.options = options
        self.api_key = api_key
        self.ctx = ctx

    def check(self, call: Call) -> None:
        """Refuse a call this provider cannot serve, before it is sent."""
        if call.operation not in self.operations:
            raise Failure(
                f"upstream {self.name!r} ({self.kind}) does not serve {call.operation}",
                client_fault=False,
            )
        if isinstance(call.request, ChatRequest) and call.request.tools and not self.supports_tools:
            raise Failure(
                f"upstream {self.name!r} ({self.kind}) does not support tools", code="tools"
            )

    @abstractmethod
    async def generate(self, call: Call, model: str) -> Generation: ...

    def stream(self, call: Call, model: str) -> AsyncIterator[Chunk]:
        raise Failure(f"upstream {self.name!r} ({self.kind}) cannot stream")

    async def embed(self, call: Call, model: str) -> Embeddings:
        raise Failure(f"upstream {self.name!r} ({self.kind}) does not serve embeddings")

    async def close(self) -> None:  # noqa: B027 - most providers hold nothing of their own
        pass


_REGISTRY: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    _REGISTRY[cls.kind] = cls
    return cls


def provider_class(kind: str) -> type[Provider]:
    _load_builtin()
    cls = _REGISTRY.get(kind)
    if cls is None:
        for ep in entry_points(group="shipyard.providers"):
            if ep.name == kind:
                cls = ep.load()
                _REGISTRY[kind] = cls
                break
    if cls is None:
        raise NotFound(
            f"unknown provider {kind!r}: use one of {', '.join(sorted(provider_kinds()))}"
        )
    return cls


def provider_kinds() -> list[str]:
    _load_builtin()
    return sorted({*_REGISTRY, *(ep.name for ep in entry_points(group="shipyard.providers"))})


def parse_options(kind: str, options: dict[str, Any]) -> ProviderOptions:
    from pydantic import ValidationError

    try:
        return provider_class(kind).Options.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise InvalidInput(f"invalid option {where!r} for provider {kind}: {err['msg']}") from None


def _load_builtin() -> None:
    """Import the built-in providers (each registers itself); cheap after the first time."""
    from shipyard.gateway.providers import anthropic, local, local_embed, openai  # noqa: F401
