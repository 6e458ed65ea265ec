"""OpenAI-shaped requests, as the gateway accepts them, and what providers give back.

Requests are validated here once; unknown fields are kept and passed on to upstreams that
speak the OpenAI protocol, so new OpenAI parameters work without a Shipyard release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shipyard.core.errors import InvalidInput

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
Operation = Literal["chat", "text_completion", "embeddings"]


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The message's text (text parts joined; other parts left out)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(
            str(p.get("text", "")) for p in self.content if p.get("type") in ("text", None)
        )

    def has_non_text(self) -> bool:
        return isinstance(self.content, list) and any(
            p.get("type") not in ("text", None) for p in self.content
        )


class _Sampling(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, max_length=300)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int = Field(default=1, ge=1, le=16)
    stop: str | list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    user: str | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and len(v) > 4:
            raise ValueError("at most 4 stop sequences")
        return v

    def stops(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else [s for s in self.stop if s]


class ChatRequest(_Sampling):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None

    def output_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    echo: bool = False

    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)

    def output_limit(self) -> int | None:
        return self.max_tokens


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, max_length=300)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None

    def texts(self) -> list[str]:
        if isinstance(self.input, str):
            return [self.input]
        if all(isinstance(x, str) for x in self.input):
            return [str(x) for x in self.input]
        raise InvalidInput(
            "token-id input is not supported; send text", param="input", code="invalid_input"
        )


Request = ChatRequest | CompletionRequest | EmbeddingRequest


def parse(kind: type[Request], body: bytes) -> tuple[Request, dict[str, Any]]:
    """Validate a request body; returns the model and the raw dict (kept for pass-through)."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"the request body is not valid JSON: {exc}", code="invalid_json"
        ) from None
    if not isinstance(raw, dict):
        raise InvalidInput("the request body must be a JSON object", code="invalid_json")
    try:
        return kind.model_validate(raw), raw
    except ValidationError as exc:
        err = exc.errors()[0]
        param = ".".join(str(p) for p in err.get("loc", ()))
        raise InvalidInput(
            f"invalid value for {param or 'body'}: {err.get('msg')}",
            param=param or None,
            code="invalid_value" if param else "invalid_request",
        ) from None


# -- what providers give back ------------------------------------------------------------------


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    # True when the upstream gave no counts and they were estimated from the text.
    estimated: bool = False

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens,
                     self.output_tokens + other.output_tokens,
                     self.cached_input_tokens + other.cached_input_tokens,
                     self.estimated or other.estimated)  # fmt: skip

    def openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }
        if self.cached_input_tokens:
            out["prompt_tokens_details"] = {"cached_tokens": self.cached_input_tokens}
        return out

    @classmethod
    def from_openai(cls, u: Any) -> Usage | None:
        if not isinstance(u, dict):
            return None
        details = u.get("prompt_tokens_details") or {}
        return cls(
            input_tokens=_int(u.get("prompt_tokens")),
            output_tokens=_int(u.get("completion_tokens")),
            cached_input_tokens=_int(details.get("cached_tokens"))
            if isinstance(details, dict)
            else 0,
        )


def _int(v: Any) -> int:
    return v if isinstance(v, int) and v >= 0 else 0


@dataclass(slots=True)
class Generation:
    """A whole answer: the OpenAI-shaped response body and what the gateway reads from it."""

    body: dict[str, Any]
    usage: Usage
    text: str  # every choice's text, for traces, caches and guardrails
    model: str  # the model that answered, as the upstream named it
    finish_reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Chunk:
    """One streamed piece: an OpenAI-shaped chunk body; ``usage`` on the last one."""

    body: dict[str, Any]
    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class Embeddings:
    vectors: list[list[float]]
    usage: Usage
    model: str


def estimate_tokens(text: str) -> int:
    """A provider-neutral token estimate (about four characters a token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def chat_text(req: ChatRequest) -> str:
    """The conversation as plain text, for estimates, caches and traces."""
    return "\n".join(f"{m.role}: {m.text()}" for m in req.messages)
