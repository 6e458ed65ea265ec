"""The evaluator plug-in interface and the assertion wrapper around it.

    class Evaluator:
        name                      the assertion ``type`` it answers to
        Options                   a pydantic model of its options (unknown keys are errors)
        evaluate(case, output)    -> Verdict(score in [0, 1], passed, explanation)

An assertion in an eval set is a mapping: ``type`` picks the evaluator, and ``name``,
``negate`` (or a ``not-`` prefix on the type) and ``weight`` are common to all; the rest
(``value``, ``threshold``...) are the evaluator's own options. A weight of 0 reports a score
without deciding whether the case passes. Third-party evaluators load through the
entry-point group ``shipyard.evaluators``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shipyard.core.errors import InvalidInput
from shipyard.evals.schemas import AssertionResult, EvalCase, Output, Verdict


class EvalEnv(Protocol):
    """What evaluators may call on: the embedder, the gateway and the prompt registry."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length embeddings, one per text (the local MiniLM unless configured)."""

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion through the gateway (an OpenAI request body → response)."""

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """One text completion through the gateway (``/v1/completions`` shape)."""

    def prompt(self, ref: str, default: dict[str, Any] | None = None) -> Any:
        """A prompt from the registry (``NAME@label``); with ``default``, a missing prompt is
        registered from that spec first. Returns a ``shipyard.prompts.Prompt``."""


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evaluator(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = Options

    def __init__(self, options: Any, env: EvalEnv) -> None:
        self.options = options
        self.env = env

    @abstractmethod
    def evaluate(self, case: EvalCase, output: Output) -> Verdict: ...


_EVALUATORS: dict[str, type[Evaluator]] = {}
_BUILTINS_LOADED = False


def register_evaluator(cls: type[Evaluator]) -> type[Evaluator]:
    _EVALUATORS[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        import shipyard.evals.evaluators.builtin  # noqa: F401  (registers on import)


def evaluator_names() -> list[str]:
    _load_builtins()
    return sorted(_EVALUATORS)


def evaluator_class(name: str) -> type[Evaluator]:
    _load_builtins()
    cls = _EVALUATORS.get(name)
    if cls is None:
        for ep in entry_points(group="shipyard.evaluators"):
            if ep.name == name:
                cls = _EVALUATORS[name] = ep.load()
                break
    if cls is None:
        raise InvalidInput(
            f"unknown assertion type {name!r}: known are {', '.join(evaluator_names())}"
        )
    return cls


COMMON = ("type", "name", "negate", "weight")


@dataclass(slots=True)
class Assertion:
    """An evaluator with the common settings: the name it reports under, negation, weight."""

    name: str
    type: str
    evaluator: Evaluator
    negate: bool = False
    weight: float = 1.0

    def run(self, case: EvalCase, output: Output) -> AssertionResult:
        try:
            verdict = self.evaluator.evaluate(case, output)
        except InvalidInput as exc:
            verdict = Verdict(0.0, False, f"cannot evaluate: {exc.message}", error=True)
        score = min(1.0, max(0.0, float(verdict.score)))
        passed, explanation = verdict.passed, verdict.explanation
        if self.negate and not verdict.error:
            score, passed = 1.0 - score, not passed
            explanation = f"negated: {explanation}"
        return AssertionResult(
            name=self.name,
            type=self.type,
            score=score,
            passed=passed,
            weight=self.weight,
            explanation=explanation,
            error=verdict.error,
        )


def build_assertion(
    spec: dict[str, Any] | Callable[..., Any], env: EvalEnv, *, where: str = "assertion"
) -> Assertion:
    """An assertion from its mapping (or, in the SDK, a bare Python function)."""
    if callable(spec):
        spec = {"type": "python", "function": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise InvalidInput(f"{where}: an assertion is a mapping with a 'type'")
    kind = spec["type"].strip()
    negate = spec.get("negate", False)
    if not isinstance(negate, bool):
        raise InvalidInput(f"{where} ({kind}): negate must be true or false")
    if kind.startswith("not-"):
        kind, negate = kind[4:], not negate
    cls = evaluator_class(kind)
    weight = spec.get("weight", 1.0)
    if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
        raise InvalidInput(f"{where} ({kind}): weight must be a number ≥ 0")
    options = {k: v for k, v in spec.items() if k not in COMMON}
    try:
        opts = cls.Options.model_validate(options)
    except ValidationError as exc:
        raise InvalidInput(f"{where} ({kind}): {_problems(exc)}") from None
    name = str(spec.get("name") or (f"not-{kind}" if negate else kind))
    return Assertion(name, kind, cls(opts, env), negate, float(weight))


def _problems(exc: ValidationError) -> str:
    """Every problem of an assertion's options in one line (unknown options named)."""
    out = []
    for err in exc.errors()[:4]:
        field = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") == "extra_forbidden":
            out.append(f"unknown option {field!r}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            out.append(f"{field}: {msg}" if field else msg)
    return "; ".join(out)


def expected_text(case: EvalCase, value: Any) -> str | None:
    """The text to compare with: the assertion's ``value``, else the case's reference, else
    its expected output."""
    for candidate in (value, case.reference, case.expected):
        if candidate is not None:
            if isinstance(candidate, str):
                return candidate
            return orjson.dumps(candidate, default=str).decode()
    return None
