"""``length``: texts too long (or too short), in characters and in approximate tokens (about
four characters each; the gateway's ``token_limits`` hook counts exactly)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext


class LengthOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_chars: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    min_chars: int | None = Field(default=None, ge=0)


@CHECKS.register
class Length(Check):
    name = "length"
    Options = LengthOptions

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        opts = self.options
        assert isinstance(opts, LengthOptions)
        n, tokens = len(text), (len(text) + 3) // 4
        if opts.max_chars is not None and n > opts.max_chars:
            return [Finding("TOO_LONG", 0, n, 1.0, f"{n} characters > {opts.max_chars}")]
        if opts.max_tokens is not None and tokens > opts.max_tokens:
            return [Finding("TOO_LONG", 0, n, 1.0, f"about {tokens} tokens > {opts.max_tokens}")]
        if opts.min_chars is not None and n < opts.min_chars:
            return [Finding("TOO_SHORT", 0, n, 1.0, f"{n} characters < {opts.min_chars}")]
        return []
