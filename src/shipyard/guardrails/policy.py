"""Policies: which checks run before a model call, after it and on streamed text; each check's
threshold; and what a firing check does.

    block    the call is refused with the policy's safe message
    redact   the spans found are replaced by <TYPE> before the text goes on
    flag     nothing changes; the verdict is recorded
    retry    (after the call, chat) the model is asked again, told what was wrong, up to
             ``max_retries`` times; then the call is blocked

A policy is a registry entry of kind ``policy``; its payload is a ``PolicySpec``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipyard.core.plugins import options_problem
from shipyard.guardrails.checks.base import Check, Finding, ScanContext, build_check

Action = Literal["block", "redact", "flag", "retry"]
Stage = Literal["pre_call", "post_call", "stream"]
RANK = {"allow": 0, "flag": 1, "redact": 2, "retry": 3, "block": 4}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str
    options: dict[str, Any] = Field(default_factory=dict)
    action: Action = "block"
    threshold: float = Field(default=0.5, ge=0, le=1)
    message: str | None = Field(default=None, max_length=2000)
    # which chat messages a pre-call rule reads, by role. Unset: every message, except that
    # checks judging intent (injection, toxicity, topics) trust the operator's own system and
    # developer messages (a system prompt says "you are..." and "never reveal...").
    roles: list[str] | None = None

    def reads(self, role: str | None) -> bool:
        if role is None:
            return True
        if self.roles is not None:
            return role in self.roles
        return not (role in OPERATOR_ROLES and self.check in INTENT_CHECKS)


OPERATOR_ROLES = frozenset({"system", "developer"})
INTENT_CHECKS = frozenset({"injection", "toxicity", "topics"})


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pre_call: list[Rule] = Field(default_factory=list)
    post_call: list[Rule] = Field(default_factory=list)
    stream: list[Rule] = Field(default_factory=list)
    block_message: str = Field(default="Sorry, I can't help with that request.", max_length=2000)
    max_retries: int = Field(default=1, ge=0, le=3)
    redact_traces: bool = Field(default=False, description="store traces with PII redacted")


DEFAULT = PolicySpec(
    pre_call=[Rule(check="secrets", action="redact"), Rule(check="pii", action="redact"),
              Rule(check="injection", action="block")],
    post_call=[Rule(check="secrets", action="redact"), Rule(check="pii", action="redact")],
)  # fmt: skip


def parse_spec(raw: dict[str, Any]) -> PolicySpec:
    try:
        return PolicySpec.model_validate(raw)
    except ValidationError as exc:
        raise options_problem("policy", exc) from None


@dataclass(slots=True)
class CheckOutcome:
    check: str
    action: str  # the rule's action when it fired, else "allow"
    score: float
    findings: list[Finding]
    ms: float

    @property
    def fired(self) -> bool:
        return self.action != "allow"

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "fired": self.fired, "action": self.action,
                "score": round(self.score, 3), "findings": [f.as_json() for f in self.findings],
                "ms": round(self.ms, 3)}  # fmt: skip


@dataclass(slots=True)
class Outcome:
    action: str  # allow | flag | redact | retry | block
    text: str  # the text after redaction
    checks: list[CheckOutcome] = field(default_factory=list)
    message: str = ""
    ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        entities = sorted({f.type for c in self.checks if c.fired for f in c.findings})
        return {"action": self.action, "fired": [c.check for c in self.checks if c.fired],
                "entities": entities, "redacted": self.text, "message": self.message,
                "checks": [c.as_json() for c in self.checks], "ms": round(self.ms, 3)}  # fmt: skip


def redact(text: str, findings: list[Finding]) -> str:
    spans = sorted((f.start, f.end, f.type) for f in findings)
    out, pos = [], 0
    for start, end, kind in spans:
        if start < pos:  # overlaps the previous span: extend it
            continue
        out.append(text[pos:start])
        out.append(f"<{kind}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


class Policy:
    def __init__(self, spec: PolicySpec, name: str = "default", version: int | None = None) -> None:
        self.spec, self.name, self.version = spec, name, version
        self.rules: dict[str, list[tuple[Rule, Check]]] = {
            stage: [(r, build_check(r.check, r.options)) for r in getattr(spec, stage)]
            for stage in ("pre_call", "post_call", "stream")
        }

    def run(
        self, stage: Stage, text: str, ctx: ScanContext | None = None, role: str | None = None
    ) -> Outcome:
        """The stage's rules on one text; ``role``: the chat message's, when it is one (rules
        read the roles they name, see ``Rule.roles``)."""
        ctx = ctx or ScanContext(stage="output" if stage != "pre_call" else "input")
        t0 = time.perf_counter()
        outcomes, to_mask, action, message = [], [], "allow", ""
        for rule, check in self.rules[stage]:
            if not rule.reads(role):
                continue
            c0 = time.perf_counter()
            found = [f for f in check.scan(text, ctx) if f.score >= rule.threshold]
            fired = rule.action if found else "allow"
            outcomes.append(CheckOutcome(rule.check, fired, max((f.score for f in found),
                            default=0.0), found, (time.perf_counter() - c0) * 1000))  # fmt: skip
            if fired == "redact" and check.redacts:
                to_mask.extend(found)
            elif fired == "redact":
                fired = "block"  # nothing to mask: a whole-text finding blocks
            if RANK[fired] > RANK[action]:
                action = fired
                message = rule.message or (self.spec.block_message if fired == "block" else "")
        out = redact(text, to_mask) if to_mask and action != "block" else text
        return Outcome(action, out, outcomes, message, (time.perf_counter() - t0) * 1000)
