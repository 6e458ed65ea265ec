"""Similarity to a reference text: ``levenshtein``, ``rouge-l``, ``semantic``.

The reference is the assertion's ``value``, else the case's ``reference``, else its
``expected`` output. Each scores in [0, 1] and passes at ``threshold``."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, expected_text, register_evaluator
from shipyard.evals.evaluators.match import clip, no_reference
from shipyard.evals.schemas import EvalCase, Output, Verdict

WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return WORD.findall(text.lower())


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance: O(len(a) * len(b)) time, O(min(len(a), len(b))) memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def lcs_length(a: Sequence[object], b: Sequence[object]) -> int:
    """Length of the longest common subsequence, in O(min(len(a), len(b))) memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def cosine(u: Sequence[float], v: Sequence[float]) -> float:
    """Cosine similarity; 0 when either vector is zero."""
    norm = math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v))
    if norm == 0:
        return 0.0
    return sum(x * y for x, y in zip(u, v, strict=True)) / norm


def _verdict(what: str, score: float, threshold: float, expected: str) -> Verdict:
    passed = score >= threshold
    relation = "≥" if passed else "<"
    return Verdict(
        score,
        passed,
        f"{what} {score:.2f} {relation} {threshold:.2f} to {clip(expected)}",
    )


@register_evaluator
class Levenshtein(Evaluator):
    """Character similarity: 1 - edit distance / length of the longer text."""

    name = "levenshtein"

    class Options(base.Options):
        value: str | None = None
        threshold: float = 0.8
        ignore_case: bool = False

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        expected = expected_text(case, self.options.value)
        if expected is None:
            return no_reference()
        a, b = output.text, expected
        if self.options.ignore_case:
            a, b = a.casefold(), b.casefold()
        longest = max(len(a), len(b))
        distance = edit_distance(a, b)
        score = 1.0 - distance / longest if longest else 1.0
        verdict = _verdict("similarity", score, self.options.threshold, expected)
        verdict.explanation += f" (edit distance {distance})"
        verdict.detail["distance"] = distance
        return verdict


@register_evaluator
class RougeL(Evaluator):
    """ROUGE-L F1: longest common subsequence of lower-cased word tokens."""

    name = "rouge-l"

    class Options(base.Options):
        value: str | None = None
        threshold: float = 0.5

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        expected = expected_text(case, self.options.value)
        if expected is None:
            return no_reference()
        got, want = words(output.text), words(expected)
        common = lcs_length(got, want)
        if not got or not want:
            score = 1.0 if got == want else 0.0
        elif common == 0:
            score = 0.0
        else:
            precision, recall = common / len(got), common / len(want)
            score = 2 * precision * recall / (precision + recall)
        return _verdict("ROUGE-L", score, self.options.threshold, expected)


@register_evaluator
class Semantic(Evaluator):
    """Cosine similarity of the embeddings of the answer and the reference (negative
    similarity scores 0)."""

    name = "semantic"

    class Options(base.Options):
        value: str | None = None
        threshold: float = 0.75

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        expected = expected_text(case, self.options.value)
        if expected is None:
            return no_reference()
        answer, reference = self.env.embed([output.text, expected])
        score = max(0.0, min(1.0, cosine(answer, reference)))
        return _verdict("cosine similarity", score, self.options.threshold, expected)
