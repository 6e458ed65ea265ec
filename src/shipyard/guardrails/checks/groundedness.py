"""``groundedness``: an answer must be supported by the context it was given (a RAG app's
retrieved passages). Scored by the evals' groundedness measure (MiniLM similarity of each
answer sentence to the passages, with word overlap); an answer scoring under ``min_score``
is reported. Without passages (a plain gateway call) there is nothing to check."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext


class GroundednessOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(default=0.5, ge=0, le=1)


@CHECKS.register
class Groundedness(Check):
    name = "groundedness"
    Options = GroundednessOptions

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        from shipyard.rag.apps import groundedness_scorer

        opts = self.options
        assert isinstance(opts, GroundednessOptions)
        scorer = groundedness_scorer()
        if not ctx.context or not text.strip() or scorer is None:
            return []
        score, why = scorer(text, ctx.context)
        if score >= opts.min_score:
            return []
        return [Finding("UNGROUNDED", 0, len(text), round(1 - score, 3), why[:300])]
