"""Eval types shared by the store, the runner, the evaluators, the REST API and the SDK."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipyard.core.errors import InvalidInput

MAX_CASES = 100_000


class EvalCase(BaseModel):
    """One test case: what goes in (variables for a prompt, or chat messages), what should
    come out (``expected``, or a looser ``reference``), the ``context`` an answer must stay
    within, tags, and the assertions that apply to this case only."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = ""
    vars: dict[str, Any] = Field(default_factory=dict)
    messages: list[dict[str, Any]] | None = None
    expected: Any = None
    reference: str | None = None
    context: str | list[str] | None = None
    tags: list[str] = Field(default_factory=list)
    assertions: list[dict[str, Any]] = Field(default_factory=list, alias="assert")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if value is None:
            return None
        for i, m in enumerate(value):
            if not isinstance(m, dict) or "role" not in m:
                raise ValueError(f"message {i} needs a 'role' (and 'content')")
        return value

    @model_validator(mode="after")
    def _stable_id(self) -> EvalCase:
        if not self.id:
            self.id = case_digest(self)[:12]
        if len(self.id) > 200:
            raise ValueError("a case id is at most 200 characters")
        return self

    def contexts(self) -> list[str]:
        if self.context is None:
            return []
        return [self.context] if isinstance(self.context, str) else [str(c) for c in self.context]

    def dump(self) -> dict[str, Any]:
        """The case as it is stored and exported (empty fields left out)."""
        out = self.model_dump(by_alias=True, exclude_defaults=True)
        out["id"] = self.id
        return out


def case_digest(case: EvalCase) -> str:
    data = case.model_dump(by_alias=True, exclude={"id"})
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


class EvalSetSpec(BaseModel):
    """The payload of a registry version of kind ``evalset``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    description: str = ""
    # assertions applied to every case, before the case's own
    assertions: list[dict[str, Any]] = Field(default_factory=list, alias="assert")
    cases: list[EvalCase] = Field(default_factory=list, max_length=MAX_CASES)

    @model_validator(mode="after")
    def _unique_ids(self) -> EvalSetSpec:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"case id {case.id!r} appears twice")
            seen.add(case.id)
        return self


@dataclass(slots=True)
class Output:
    """What the target answered for one case, and what it cost."""

    text: str
    latency_ms: float | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    trace_id: str | None = None
    raw: Any = None

    def json(self) -> Any:
        """The answer parsed as JSON (a fenced ```json block is unwrapped first)."""
        return parse_json_answer(self.text)


def parse_json_answer(text: str) -> Any:
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return orjson.loads(body)


@dataclass(slots=True)
class Verdict:
    """An evaluator's answer for one case: a score in [0, 1], pass or fail, and why."""

    score: float
    passed: bool
    explanation: str = ""
    error: bool = False  # the evaluator could not judge (e.g. a judge's unparseable answer)
    detail: dict[str, Any] = field(default_factory=dict)


class AssertionResult(BaseModel):
    name: str
    type: str
    score: float
    passed: bool
    weight: float = 1.0
    explanation: str = ""
    error: bool = False


class CaseResult(BaseModel):
    """One case of one eval run, as stored."""

    run_id: str
    case_id: str
    index: int
    status: Literal["ok", "error"]
    passed: bool
    score: float
    output: str | None = None
    assertions: list[AssertionResult] = Field(default_factory=list)
    latency_ms: float | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    trace_id: str | None = None
    error: str | None = None
    created_at: int = 0


def check_cases(raw: list[Any]) -> list[EvalCase]:
    """Validate raw case dicts, naming the case that is wrong."""
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, EvalCase):
            out.append(item)
            continue
        try:
            out.append(EvalCase.model_validate(item))
        except ValueError as exc:
            raise InvalidInput(f"case {i + 1}: {_first_error(exc)}") from None
    return out


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc)
