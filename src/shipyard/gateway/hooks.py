"""Guardrail hook points: before the call, after it, and on every streamed chunk.

    class Hook:
        pre_call(call, ctx)          -> Verdict   may block, or rewrite the request
        post_call(call, answer, ctx) -> Verdict   may block, or rewrite the answer
        on_stream(call, text, ctx)   -> Verdict   may stop a stream part-way

A post-call verdict of ``retry`` asks the model again (chat only), telling it what was wrong
(``message``), up to ``detail["max_retries"]`` times; then it blocks.
A verdict that blocks either fails the call (``status`` set: an OpenAI-shaped error) or
answers with a safe message in place of the model's (``status`` unset). Every hook run is
recorded as a guardrail span. Hooks are plug-ins registered by name (entry-point group
``shipyard.guardrails``); a route lists the hooks it runs. ``token_limits`` ships here.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.gateway.providers.base import Call
from shipyard.gateway.schemas import ChatRequest, Generation, chat_text

Action = Literal["allow", "block", "rewrite", "stop", "retry"]


@dataclass(slots=True)
class Verdict:
    action: Action = "allow"
    message: str = ""
    status: int | None = None  # block as an HTTP error with this status
    code: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


ALLOW = Verdict()


@dataclass(slots=True)
class HookContext:
    route: str
    tenant: str | None
    count_tokens: Callable[[str], int]


class Hook(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    async def pre_call(self, call: Call, ctx: HookContext) -> Verdict:
        return ALLOW

    async def post_call(self, call: Call, answer: Generation, ctx: HookContext) -> Verdict:
        return ALLOW

    def on_stream(self, call: Call, text: str, ctx: HookContext) -> Verdict:
        return ALLOW

    @classmethod
    def stages(cls) -> set[str]:
        return {
            s
            for s in ("pre_call", "post_call", "on_stream")
            if getattr(cls, s) is not getattr(Hook, s)
        }


def input_text(call: Call) -> str:
    req = call.request
    if isinstance(req, ChatRequest):
        return chat_text(req)
    if call.operation == "text_completion":
        return "\n".join(call.completion.prompts())
    return "\n".join(call.embedding.texts())


class TokenLimitOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_input_tokens: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)


class TokenLimits(Hook):
    """Refuse prompts over ``max_input_tokens``; cap answers at ``max_output_tokens`` (the
    request's max_tokens is lowered to it, and a stream that runs past it is stopped)."""

    name = "token_limits"
    Options = TokenLimitOptions

    async def pre_call(self, call: Call, ctx: HookContext) -> Verdict:
        opts = self.options
        assert isinstance(opts, TokenLimitOptions)
        detail: dict[str, Any] = {}
        if opts.max_input_tokens is not None:
            used = ctx.count_tokens(input_text(call))
            detail["input_tokens"] = used
            if used > opts.max_input_tokens:
                return Verdict(
                    "block",
                    f"the input has {used} tokens; route {ctx.route!r} allows "
                    f"{opts.max_input_tokens}",
                    status=400,
                    code="context_length_exceeded",
                    detail=detail,
                )
        if opts.max_output_tokens is not None and call.operation != "embeddings":
            asked = call.max_output()
            if asked is None or asked > opts.max_output_tokens:
                call.overrides["max_tokens"] = opts.max_output_tokens
                if call.operation == "chat" and "max_completion_tokens" in call.raw:
                    call.overrides["max_completion_tokens"] = opts.max_output_tokens
                detail["max_tokens"] = opts.max_output_tokens
                return Verdict("rewrite", "max_tokens lowered to the route's limit", detail=detail)
        return Verdict(detail=detail)

    def on_stream(self, call: Call, text: str, ctx: HookContext) -> Verdict:
        opts = self.options
        assert isinstance(opts, TokenLimitOptions)
        # a cheap running estimate (with room for error); exact counts come with the usage
        limit = opts.max_output_tokens
        if limit is not None and (len(text) + 3) // 4 > limit * 1.5:
            return Verdict("stop", "the stream ran past the route's output limit")
        return ALLOW


_HOOKS: dict[str, type[Hook]] = {TokenLimits.name: TokenLimits}


def hook_class(name: str) -> type[Hook]:
    cls = _HOOKS.get(name)
    if cls is None:
        for ep in entry_points(group="shipyard.guardrails"):
            if ep.name == name:
                cls = _HOOKS[name] = ep.load()
                break
    if cls is None:
        raise NotFound(f"unknown guardrail hook {name!r}: known are {', '.join(sorted(_HOOKS))}")
    return cls


def register_hook(cls: type[Hook]) -> type[Hook]:
    _HOOKS[cls.name] = cls
    return cls


def build_hook(name: str, options: dict[str, Any]) -> Hook:
    cls = hook_class(name)
    try:
        return cls(cls.Options.model_validate(options))
    except ValidationError as exc:
        raise InvalidInput(f"guardrail {name!r}: {exc.errors()[0]['msg']}") from None
