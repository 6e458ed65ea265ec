"""``judge``: an LLM grades the answer against a rubric.

The judge prompt is a registry prompt like any other (``shipyard-judge@production`` unless
``prompt`` names another); it is registered from ``DEFAULT_JUDGE_PROMPT`` on first use. The
judge answers ``{"score": n, "reason": "..."}``; ``parse_judge_answer`` also accepts that
object inside prose, or a plain "Score: 4/5"."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import field_validator, model_validator

from shipyard.core.errors import ShipyardError
from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, expected_text, register_evaluator
from shipyard.evals.evaluators.match import clip
from shipyard.evals.schemas import EvalCase, Output, Verdict

JUDGE_PROMPT_REF = "shipyard-judge@production"

_SYSTEM = (
    "You are a strict, fair grader of an AI assistant's answers. Grade only against the "
    "rubric. Reply with one JSON object and nothing else: "
    '{"score": <a number from {{ scale_min }} to {{ scale_max }}>, '
    '"reason": "<one or two sentences>"}'
)
_USER = """Rubric:
{{ rubric }}
{% if input %}
Input:
{{ input }}
{% endif %}{% if context %}
Context:
{{ context }}
{% endif %}{% if expected %}
Expected answer:
{{ expected }}
{% endif %}
Answer to grade:
{{ output }}

Score the answer from {{ scale_min }} (worst) to {{ scale_max }} (best). Reply with JSON only."""

DEFAULT_JUDGE_PROMPT: dict[str, Any] = {
    "type": "chat",
    "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _USER}],
    "variables": ["rubric", "input", "output", "expected", "context", "scale_min", "scale_max"],
    "params": {"temperature": 0, "max_tokens": 300},
}

_SCORE = re.compile(r"\bscore\**\s*[:=]\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


class JudgeOptions(base.Options):
    rubric: str
    prompt: str = JUDGE_PROMPT_REF
    model: str | None = None
    scale_min: float = 1
    scale_max: float = 5
    threshold: float = 0.5

    @field_validator("rubric")
    @classmethod
    def _rubric(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the rubric is empty")
        return value

    @model_validator(mode="after")
    def _scale(self) -> JudgeOptions:
        if self.scale_max <= self.scale_min:
            raise ValueError("scale_max must be greater than scale_min")
        return self


@dataclass(slots=True)
class JudgeScore:
    score: float
    reason: str = ""
    passed: bool | None = None  # the judge's own pass/fail, when it gave one


def _closing_brace(text: str, start: int) -> int | None:
    """The index of the brace closing the one at ``start`` (strings skipped), if any."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def first_json_object(text: str, keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (with one of ``keys``, when given)."""
    start = text.find("{")
    while start != -1:
        end = _closing_brace(text, start)
        if end is not None:
            try:
                value = orjson.loads(text[start : end + 1])
            except orjson.JSONDecodeError:
                value = None
            if isinstance(value, dict) and (not keys or any(k in value for k in keys)):
                return value
        start = text.find("{", start + 1)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        found = re.match(r"\s*(-?\d+(?:\.\d+)?)", value)
        value = float(found.group(1)) if found else None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def parse_judge_answer(text: str, scale_min: float, scale_max: float) -> JudgeScore | None:
    """The judge's score, reason and pass/fail; ``None`` when there is no score within
    [scale_min, scale_max] (a bare pass/fail scores the ends of the scale)."""
    found: JudgeScore | None = None
    obj = first_json_object(text, ("score", "pass", "passed"))
    if obj is not None:
        lowered = {str(k).lower(): v for k, v in obj.items()}
        reason = lowered.get("reason", lowered.get("explanation", ""))
        flag = lowered.get("pass", lowered.get("passed"))
        passed = flag if isinstance(flag, bool) else None
        score = _number(lowered.get("score"))
        if score is None and passed is not None:
            score = scale_max if passed else scale_min
        if score is not None:
            found = JudgeScore(score, str(reason or ""), passed)
    if found is None:
        match = _SCORE.search(text)
        if match:
            found = JudgeScore(float(match.group(1)), text.strip())
    if found is None or not scale_min <= found.score <= scale_max:
        return None
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # chat content parts
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in value)
    return orjson.dumps(value, default=str).decode()


def render_input(case: EvalCase) -> str:
    """The case's input as readable text: its variables, then its messages."""
    lines = [f"{key}: {_as_text(value)}" for key, value in case.vars.items()]
    lines += [f"{m['role']}: {_as_text(m.get('content', ''))}" for m in case.messages or []]
    return "\n".join(lines)


def _answer_text(kind: str, response: dict[str, Any]) -> str | None:
    try:
        choice = response["choices"][0]
        text = choice["message"]["content"] if kind == "chat" else choice["text"]
    except (KeyError, IndexError, TypeError):
        return None
    return text if isinstance(text, str) else None


def _ask(env: base.EvalEnv, options: JudgeOptions, variables: dict[str, Any]) -> str | Verdict:
    """The judge's answer text, or an error verdict when the call fails."""
    prompt = env.prompt(options.prompt, default=DEFAULT_JUDGE_PROMPT)
    kind, body = prompt.request(variables, model=options.model)
    try:
        response = env.chat(body) if kind == "chat" else env.complete(body)
    except ShipyardError as exc:
        return Verdict(0.0, False, f"the judge call failed: {exc.message}", error=True)
    text = _answer_text(kind, response)
    if text is None:
        return Verdict(0.0, False, "the judge's response has no answer text", error=True)
    return text


def run_judge(env: base.EvalEnv, options: JudgeOptions, case: EvalCase, output: Output) -> Verdict:
    """Ask the judge about one answer and turn its score into a verdict."""
    low, high = options.scale_min, options.scale_max
    variables = {
        "rubric": options.rubric,
        "input": render_input(case),
        "output": output.text,
        "expected": expected_text(case, None) or "",
        "context": "\n\n".join(case.contexts()),
        "scale_min": f"{low:g}",
        "scale_max": f"{high:g}",
    }
    answer = _ask(env, options, variables)
    if isinstance(answer, Verdict):
        return answer
    parsed = parse_judge_answer(answer, low, high)
    if parsed is None:
        return Verdict(
            0.0, False, f"the judge's answer is not a score: {answer[:200]!r}", error=True
        )
    score = (parsed.score - low) / (high - low)
    passed = score >= options.threshold
    relation = "≥" if passed else "<"
    explanation = f"judge scored {parsed.score:g} of {low:g}–{high:g} ({score:.2f} {relation} "
    explanation += f"{options.threshold:.2f})"
    if parsed.passed is not None and parsed.passed != passed:
        explanation += f", though the judge said {'pass' if parsed.passed else 'fail'}"
    if parsed.reason:
        explanation += f": {clip(parsed.reason, 200)}"
    detail = {"judge_score": parsed.score, "reason": parsed.reason, "judge_passed": parsed.passed}
    return Verdict(score, passed, explanation, detail=detail)


@register_evaluator
class Judge(Evaluator):
    """An LLM grades the answer against ``rubric`` on [scale_min, scale_max]; the score is
    normalised to [0, 1] and passes at ``threshold``."""

    name = "judge"
    Options = JudgeOptions

    options: JudgeOptions

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        return run_judge(self.env, self.options, case, output)
