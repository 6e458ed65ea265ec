"""Text matching: ``equals``, ``contains``, ``regex``, ``starts-with``."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import field_validator

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, expected_text, register_evaluator
from shipyard.evals.schemas import EvalCase, Output, Verdict


def clip(text: str, limit: int = 80) -> str:
    """``text`` quoted for an explanation, shortened to ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def no_reference() -> Verdict:
    return Verdict(
        0.0, False, "nothing to compare with: give a 'value' or an expected output", error=True
    )


@register_evaluator
class Equals(Evaluator):
    """The answer equals the value (by default the case's expected output)."""

    name = "equals"

    class Options(base.Options):
        value: Any = None
        ignore_case: bool = False
        strip: bool = True

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        expected = expected_text(case, self.options.value)
        if expected is None:
            return no_reference()
        got, want = output.text, expected
        if self.options.strip:
            got, want = got.strip(), want.strip()
        if self.options.ignore_case:
            got, want = got.casefold(), want.casefold()
        if got == want:
            return Verdict(1.0, True, f"equals {clip(expected)}")
        return Verdict(0.0, False, f"expected {clip(expected)}, got {clip(output.text)}")


@register_evaluator
class Contains(Evaluator):
    """The answer contains the value(s): ``mode: all`` scores the share found (and passes
    when it reaches ``threshold``, by default all of them), ``mode: any`` passes on one.
    Without a value, the case's expected output (or a list of them) is looked for."""

    name = "contains"

    class Options(base.Options):
        value: str | list[str] | None = None
        mode: Literal["any", "all"] = "all"
        ignore_case: bool = True
        threshold: float = 1.0

        @field_validator("value")
        @classmethod
        def _not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
            if value is None:
                return None
            items = [value] if isinstance(value, str) else value
            if not items or any(not item for item in items):
                raise ValueError("give one or more non-empty strings")
            return value

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        value = self.options.value
        if value is None:
            value = case.expected if isinstance(case.expected, list) else expected_text(case, None)
        if not value:
            return Verdict(0.0, False, "nothing to look for: give a value or an expected output",
                           error=True)  # fmt: skip
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        text = output.text.casefold() if self.options.ignore_case else output.text
        found = [i for i in items if (i.casefold() if self.options.ignore_case else i) in text]
        missing = [i for i in items if i not in found]
        listed = ", ".join(clip(i, 40) for i in missing)
        if self.options.mode == "any":
            if found:
                return Verdict(1.0, True, f"contains {clip(found[0], 40)}")
            return Verdict(0.0, False, f"contains none of {listed}")
        score = len(found) / len(items)
        passed = score >= self.options.threshold
        if not missing:
            return Verdict(score, passed, f"contains all {len(items)} expected strings")
        return Verdict(score, passed, f"missing {listed} (found {len(found)} of {len(items)})")


@register_evaluator
class Regex(Evaluator):
    """The answer matches a regular expression (``re.search``)."""

    name = "regex"

    class Options(base.Options):
        pattern: str
        ignore_case: bool = False
        multiline: bool = False

        @field_validator("pattern")
        @classmethod
        def _compiles(cls, value: str) -> str:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
            return value

    options: Options

    def __init__(self, options: Options, env: base.EvalEnv) -> None:
        super().__init__(options, env)
        flags = (re.IGNORECASE if options.ignore_case else 0) | (
            re.MULTILINE if options.multiline else 0
        )
        self.regex = re.compile(options.pattern, flags)

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        pattern = f"/{self.options.pattern}/"
        found = self.regex.search(output.text)
        if found:
            return Verdict(1.0, True, f"{pattern} matches {clip(found.group(0), 60)}")
        return Verdict(0.0, False, f"{pattern} does not match {clip(output.text)}")


@register_evaluator
class StartsWith(Evaluator):
    """The answer, leading whitespace ignored, starts with the value (by default the case's
    expected output)."""

    name = "starts-with"

    class Options(base.Options):
        value: str | None = None
        ignore_case: bool = True

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        expected = expected_text(case, self.options.value)
        if expected is None:
            return no_reference()
        got, want = output.text.lstrip(), expected.lstrip()
        if self.options.ignore_case:
            got, want = got.casefold(), want.casefold()
        if got.startswith(want):
            return Verdict(1.0, True, f"starts with {clip(expected)}")
        start = output.text.lstrip()[: max(len(want), 20)]
        return Verdict(
            0.0, False, f"expected to start with {clip(expected)}, starts with {clip(start)}"
        )
