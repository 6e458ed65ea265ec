"""A guardrail policy at the gateway's hook points.

Before the call, the policy's ``pre_call`` rules run on each message (or prompt, or embedding
input): a block answers with the policy's safe message; a redaction rewrites the request, so
the model, the cache and the trace only see ``<EMAIL_ADDRESS>``. After the call, ``post_call``
rules run on the answer (a redaction rewrites it); on a stream, ``stream`` rules run on the
text so far and stop the stream when one blocks. The verdict's detail lists every check with
its action, score, entity types and latency (never the values found): the gateway records
each as a guardrail span.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from shipyard.gateway.hooks import Hook, HookContext, Verdict
from shipyard.gateway.providers.base import Call
from shipyard.gateway.schemas import ChatRequest, CompletionRequest, Generation
from shipyard.guardrails.policy import RANK, Outcome, Policy


class _NoOptions(BaseModel):
    pass


def _summary(outcomes: list[Outcome]) -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        for c in o.checks:
            seen = checks.setdefault(c.check, {"check": c.check, "action": "allow", "score": 0.0,
                                               "entities": [], "ms": 0.0})  # fmt: skip
            if RANK[c.action] > RANK[seen["action"]]:
                seen["action"] = c.action
            seen["score"] = max(seen["score"], round(c.score, 3))
            seen["ms"] = round(seen["ms"] + c.ms, 3)
            seen["entities"] = sorted({*seen["entities"], *(f.type for f in c.findings)})
    return {"checks": list(checks.values())}


def _worst(outcomes: list[Outcome]) -> Outcome | None:
    acted = [o for o in outcomes if o.action != "allow"]
    return max(acted, key=lambda o: RANK[o.action]) if acted else None


class PolicyHook(Hook):
    name = "policy"
    Options: ClassVar[type[BaseModel]] = _NoOptions

    def __init__(self, policy: Policy) -> None:
        super().__init__(_NoOptions())
        self.policy = policy

    def _verdict(
        self, outcomes: list[Outcome], rewritten: bool, stage: str = "pre_call"
    ) -> Verdict:
        detail = {"policy": self.policy.name, "version": self.policy.version, **_summary(outcomes),
                  "max_retries": self.policy.spec.max_retries}  # fmt: skip
        worst = _worst(outcomes)
        if worst is None:
            return Verdict("allow", detail=detail)
        if worst.action == "retry" and stage == "post_call":
            problems = "; ".join(f.detail or f.type for o in outcomes for c in o.checks
                                 if c.action == "retry" for f in c.findings)  # fmt: skip
            return Verdict("retry", problems or "it did not pass the checks", detail=detail)
        if worst.action in ("block", "retry"):
            return Verdict("block", worst.message or self.policy.spec.block_message, detail=detail)
        fired = ", ".join(sorted({c.check for o in outcomes for c in o.checks if c.fired}))
        if worst.action == "redact" and rewritten:
            return Verdict("rewrite", f"redacted by {fired}", detail=detail)
        return Verdict("allow", f"flagged by {fired}", detail=detail)

    async def pre_call(self, call: Call, ctx: HookContext) -> Verdict:
        if not self.policy.rules["pre_call"]:
            return Verdict()
        outcomes: list[Outcome] = []
        req = call.request
        if isinstance(req, ChatRequest):
            messages = []
            for m in req.messages:
                if isinstance(m.content, str) and m.content:
                    o = self.policy.run("pre_call", m.content, role=m.role)
                    outcomes.append(o)
                    m = m.model_copy(update={"content": o.text}) if o.text != m.content else m
                elif isinstance(m.content, list):
                    parts = []
                    for part in m.content:
                        if part.get("type") in ("text", None) and isinstance(part.get("text"), str):
                            o = self.policy.run("pre_call", part["text"], role=m.role)
                            outcomes.append(o)
                            part = {**part, "text": o.text}
                        parts.append(part)
                    m = m.model_copy(update={"content": parts})
                messages.append(m)
            rewritten = any(o.text for o in outcomes) and _worst(outcomes) is not None
            if rewritten:
                call.request = req.model_copy(update={"messages": messages})
                call.raw["messages"] = [x.model_dump(exclude_none=True) for x in messages]
        elif isinstance(req, CompletionRequest):
            prompts = []
            for p in req.prompts():
                o = self.policy.run("pre_call", p)
                outcomes.append(o)
                prompts.append(o.text)
            value: Any = prompts[0] if isinstance(req.prompt, str) else prompts
            call.request = req.model_copy(update={"prompt": value})
            call.raw["prompt"] = value
            rewritten = True
        else:
            texts = call.embedding.texts()
            outcomes = [self.policy.run("pre_call", t) for t in texts]
            rewritten = False
        return self._verdict(outcomes, rewritten)

    async def post_call(self, call: Call, answer: Generation, ctx: HookContext) -> Verdict:
        if not self.policy.rules["post_call"]:
            return Verdict()
        outcomes = []
        for choice in answer.body.get("choices", []):
            holder = choice.get("message") if "message" in choice else choice
            key = "content" if "message" in choice else "text"
            text = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(text, str) and text:
                o = self.policy.run("post_call", text)
                outcomes.append(o)
                if o.action == "redact":
                    holder[key] = o.text
        if outcomes and any(o.action == "redact" for o in outcomes):
            answer.text = "\n".join(o.text for o in outcomes)
        return self._verdict(outcomes, rewritten=True, stage="post_call")

    def on_stream(self, call: Call, text: str, ctx: HookContext) -> Verdict:
        if not self.policy.rules["stream"]:
            return Verdict()
        o = self.policy.run("stream", text)
        if o.action in ("block", "retry", "redact"):
            return Verdict("stop", f"stopped by {', '.join(c.check for c in o.checks if c.fired)}",
                           detail=_summary([o]))  # fmt: skip
        return Verdict()
