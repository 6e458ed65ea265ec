"""``python``: a Python function judges the answer.

``function`` is a callable (from the SDK) or a ``"module:qualname"`` string, imported when
the assertion is built. It is called as ``fn(output_text, case)``, or ``fn(output_text)``
when it takes one parameter, and returns a bool, a score in [0, 1] (passing at
``threshold``), a dict with ``score`` / ``passed`` / ``explanation``, or a ``Verdict``.

A ``"module:qualname"`` in an eval set runs that code wherever the eval runs: only run eval
sets from people who may run code there."""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from numbers import Real
from typing import Any

from pydantic import field_validator

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, register_evaluator
from shipyard.evals.schemas import EvalCase, Output, Verdict

RETURNS = "a bool, a score in [0, 1], a dict with 'score' or 'passed', or a Verdict"


def import_function(ref: str) -> Callable[..., Any]:
    """The callable named by ``"module:qualname"``."""
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"{ref!r} is not 'module:function'")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    for part in qualname.split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module_name!r} has no {qualname!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{ref!r} is not callable")
    return target


def takes_one_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1


def _score(value: Any) -> float | None:
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and 0.0 <= number <= 1.0:
            return number
    return None


def to_verdict(result: Any, threshold: float, who: str) -> Verdict:
    """What a function returned, as a verdict (an error verdict if it is none of
    ``RETURNS``)."""
    if isinstance(result, Verdict):
        return result
    if isinstance(result, bool):
        return Verdict(float(result), result, f"{who} returned {result}")
    if isinstance(result, dict):
        return _dict_verdict(result, threshold, who)
    score = _score(result)
    if score is None:
        return _bad_return(result, who)
    passed = score >= threshold
    relation = "≥" if passed else "<"
    return Verdict(score, passed, f"{who} scored {score:.2f} ({relation} {threshold:.2f})")


def _dict_verdict(result: dict[Any, Any], threshold: float, who: str) -> Verdict:
    raw_score, flag = result.get("score"), result.get("passed", result.get("pass"))
    score = _score(raw_score)
    bad_score = raw_score is not None and score is None
    bad_flag = flag is not None and not isinstance(flag, bool)
    if bad_score or bad_flag or (raw_score is None and flag is None):
        return _bad_return(result, who)
    if score is None:
        score = float(bool(flag))
    passed = flag if isinstance(flag, bool) else score >= threshold
    reason = str(result.get("explanation", result.get("reason", "")) or "")
    return Verdict(score, passed, reason or f"{who} scored {score:.2f}")


def _bad_return(result: Any, who: str) -> Verdict:
    shown = repr(result)[:100]
    return Verdict(0.0, False, f"{who} returned {shown}: expected {RETURNS}", error=True)


@register_evaluator
class Python(Evaluator):
    """A Python function judges the answer."""

    name = "python"

    class Options(base.Options):
        function: Any
        threshold: float = 0.5

        @field_validator("function")
        @classmethod
        def _callable(cls, value: Any) -> Callable[..., Any]:
            if isinstance(value, str):
                return import_function(value)
            if not callable(value):
                raise ValueError("give a callable or a 'module:function' string")
            return value

    options: Options

    def __init__(self, options: Options, env: base.EvalEnv) -> None:
        super().__init__(options, env)
        self.function: Callable[..., Any] = options.function
        self.one_argument = takes_one_argument(self.function)
        self.who = getattr(self.function, "__name__", "the function")

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        try:
            if self.one_argument:
                result = self.function(output.text)
            else:
                result = self.function(output.text, case)
        except Exception as exc:
            return Verdict(0.0, False, f"{type(exc).__name__}: {exc}", error=True)
        return to_verdict(result, self.options.threshold, self.who)
