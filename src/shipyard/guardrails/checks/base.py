"""The guardrail check plug-in interface.

    class Check:
        name                  the name policies use
        Options               its typed options (a pydantic model)
        redacts               whether its findings are spans that can be masked
        scan(text, ctx)       the findings in one text

Built-ins: ``pii``, ``secrets``, ``injection``, ``toxicity``, ``topics``, ``length``,
``json_schema``. Third-party checks load through the entry-point group
``shipyard.guardrail_checks``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from shipyard.core.plugins import PluginRegistry

Stage = Literal["input", "output"]


@dataclass(slots=True)
class Finding:
    """What one check found: a kind (``EMAIL_ADDRESS``, ``AWS_ACCESS_KEY``, ``INJECTION``...),
    where (character offsets, end exclusive) and how sure (0-1)."""

    type: str
    start: int
    end: int
    score: float
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "start": self.start, "end": self.end,
                               "score": round(self.score, 3)}  # fmt: skip
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(slots=True)
class ScanContext:
    stage: Stage = "input"
    context: list[str] = field(default_factory=list)  # retrieved passages (groundedness)


class Check(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    redacts: ClassVar[bool] = False

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    @abstractmethod
    def scan(self, text: str, ctx: ScanContext) -> list[Finding]: ...


CHECKS: PluginRegistry[Check] = PluginRegistry(
    "guardrail check", lambda cls: cls.name,
    tuple(f"shipyard.guardrails.checks.{m}" for m in (
        "pii", "secrets", "injection", "toxicity", "topics", "length", "json_schema",
        "groundedness")),
    "shipyard.guardrail_checks",
)  # fmt: skip


def build_check(name: str, options: dict[str, Any] | None = None) -> Check:
    cls = CHECKS.get(name)
    return cls(CHECKS.options(name, cls.Options, options or {}))


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings reduced to the best one (highest score, then longest)."""
    ordered = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ordered:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)
