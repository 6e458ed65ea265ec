"""Routes: a public model name mapped to upstream targets, stored as registry entries of kind
``route`` (so every change is a version and rollback moves the ``production`` alias back).

    chat:                       # the name clients send as "model"
      strategy: weighted        # weighted | latency | cost | ordered
      targets:
        - {upstream: local, model: gemma-3-270m, weight: 3}
        - {upstream: openai, model: gpt-4o-mini, weight: 1, timeout_s: 20}
      fallbacks:                # tried in order once every target has failed
        - {upstream: anthropic, model: claude-3-5-haiku}
      retries: 2                # per target, on 429, 5xx, timeouts and garbage
      cache: {exact: true, ttl_s: 600}
      limits: {max_input_tokens: 4000, max_output_tokens: 512}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shipyard.core.errors import InvalidInput
from shipyard.gateway.pricing import Price

BUILTIN_UPSTREAMS = {"local": "local", "local-embed": "local-embed"}


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    upstream: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=300)
    weight: float = Field(default=1.0, ge=0)
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    price: Price | None = None

    @property
    def key(self) -> str:
        return f"{self.upstream}/{self.model}"


class CacheSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exact: bool = False
    semantic: bool = False
    # cosine similarity of the request's embedding to a cached one for a semantic hit
    threshold: float = Field(default=0.95, gt=0, le=1)
    ttl_s: float = Field(default=3600, gt=0)
    # cache answers to requests with temperature > 0 too (by default they are not cached)
    nondeterministic: bool = False


class TokenLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_input_tokens: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)


class HookSpec(BaseModel):
    """A guardrail hook by registered name, with its options."""

    model_config = ConfigDict(extra="forbid")
    name: str
    options: dict[str, Any] = {}


class RouteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    operation: Literal["chat", "embeddings"] = "chat"
    strategy: Literal["weighted", "latency", "cost", "ordered"] = "weighted"
    targets: list[Target] = Field(min_length=1, max_length=50)
    fallbacks: list[Target] = Field(default_factory=list, max_length=20)
    retries: int = Field(default=1, ge=0, le=10)
    backoff_s: float = Field(default=0.2, ge=0, le=60)
    backoff_max_s: float = Field(default=5.0, ge=0, le=300)
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    # a target failing this many times in a row is set aside for cooldown_s
    cooldown_after: int = Field(default=3, ge=1)
    cooldown_s: float = Field(default=30.0, ge=0)
    cache: CacheSpec = Field(default_factory=CacheSpec)
    limits: TokenLimits = Field(default_factory=TokenLimits)
    guardrails: list[HookSpec] = Field(default_factory=list)
    policy: str | None = None  # a guardrail policy (registry kind "policy")

    @model_validator(mode="after")
    def _weights(self) -> RouteConfig:
        if self.strategy == "weighted" and not any(t.weight > 0 for t in self.targets):
            raise ValueError("a weighted route needs a target with a weight above 0")
        return self

    def all_targets(self) -> list[Target]:
        return [*self.targets, *self.fallbacks]


def parse_route(payload: Any, name: str = "route") -> RouteConfig:
    try:
        return RouteConfig.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "route"
        raise InvalidInput(f"route {name!r}: {where}: {err['msg']}") from None


class Upstream(BaseModel):
    """An upstream as the API shows it: the key itself is never included."""

    name: str
    provider: str
    options: dict[str, Any]
    has_api_key: bool
    builtin: bool = False
    created_at: int = 0
    created_by: str = ""
    updated_at: int = 0
    updated_by: str = ""


class UpstreamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field(min_length=1, max_length=100)
    options: dict[str, Any] = Field(default_factory=dict)
    api_key: str | None = Field(default=None, max_length=10_000)
    # keep the stored key when api_key is not given (an update that changes options only)
    keep_api_key: bool = True


class RouteInfo(BaseModel):
    """A route as ``GET /api/v1/gateway/routes`` shows it."""

    name: str
    version: int
    alias: str
    config: RouteConfig
