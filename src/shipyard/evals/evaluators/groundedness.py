"""``groundedness``: the answer stays within the case's context.

The default is a proxy that needs no LLM: the answer is split into sentences, and a sentence
is supported when its embedding is close to a piece of the context (``similarity``) or most
of its content words appear in the context (``overlap``). The score is the share of
supported sentences. With ``judge`` set, an LLM judge grades it instead (see ``judge``)."""

from __future__ import annotations

import re

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, register_evaluator
from shipyard.evals.evaluators.judge import JUDGE_PROMPT_REF, JudgeOptions, run_judge
from shipyard.evals.evaluators.match import clip
from shipyard.evals.evaluators.similarity import cosine, words
from shipyard.evals.schemas import EvalCase, Output, Verdict

GROUNDEDNESS_RUBRIC = """Is every claim in the answer supported by the context?
5: every claim is stated in the context or follows directly from it.
3: the main claims are supported, but some details are not in the context.
1: the main claims are not in the context, or contradict it.
Grade support by the context only: not correctness by outside knowledge, not style."""

# fmt: off
STOPWORDS = frozenset((
    "about", "above", "after", "again", "against", "all", "also", "among", "and", "any", "are",
    "because", "been", "before", "being", "below", "between", "both", "but", "can", "could", "did",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has",
    "have", "having", "her", "here", "hers", "herself", "him", "himself", "his", "how", "into",
    "its", "itself", "just", "may", "might", "more", "most", "must", "not", "now", "off", "once",
    "only", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "some", "such",
    "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
    "those", "through", "too", "under", "until", "very", "was", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "yes", "you", "your", "yours",
))
# fmt: on

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """``text`` split at sentence ends and line breaks."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def content_tokens(text: str) -> list[str]:
    """Words longer than two letters that are not stopwords, a plural ``s`` dropped."""
    out = []
    for word in words(text):
        if len(word) > 2 and word not in STOPWORDS:
            out.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return out


class JudgeRef(base.Options):
    """Which judge prompt and model grade groundedness when ``judge`` is on."""

    prompt: str = JUDGE_PROMPT_REF
    model: str | None = None


@register_evaluator
class Groundedness(Evaluator):
    """The share of the answer's sentences that the context supports; passes at
    ``threshold``."""

    name = "groundedness"

    class Options(base.Options):
        similarity: float = 0.6
        overlap: float = 0.6
        threshold: float = 0.7
        judge: bool | JudgeRef = False

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        contexts = [c for c in case.contexts() if c.strip()]
        if not contexts:
            return Verdict(0.0, False, "the case has no context", error=True)
        judge = self.options.judge
        if judge:
            ref = judge if isinstance(judge, JudgeRef) else JudgeRef()
            options = JudgeOptions(
                rubric=GROUNDEDNESS_RUBRIC,
                prompt=ref.prompt,
                model=ref.model,
                threshold=self.options.threshold,
            )
            return run_judge(self.env, options, case, output)
        if not output.text.strip():
            return Verdict(0.0, False, "the answer is empty")
        claims = [s for s in sentences(output.text) if content_tokens(s)]
        if not claims:
            return Verdict(1.0, True, "the answer makes no claims to check against the context")
        return self._proxy(claims, contexts)

    def _proxy(self, claims: list[str], contexts: list[str]) -> Verdict:
        pieces = [s for c in contexts for s in sentences(c)]
        pieces += [c for c in contexts if len(sentences(c)) > 1]
        vectors = self.env.embed(claims + pieces)
        claim_vecs, piece_vecs = vectors[: len(claims)], vectors[len(claims) :]
        known = set(content_tokens(" ".join(contexts)))
        rows = []
        for claim, vec in zip(claims, claim_vecs, strict=True):
            best = max(cosine(vec, p) for p in piece_vecs)
            tokens = content_tokens(claim)
            share = sum(t in known for t in tokens) / len(tokens)
            ok = best >= self.options.similarity or share >= self.options.overlap
            rows.append({"sentence": claim, "similarity": best, "overlap": share, "supported": ok})
        supported = sum(bool(r["supported"]) for r in rows)
        score = supported / len(rows)
        passed = score >= self.options.threshold
        relation = "≥" if passed else "<"
        explanation = (
            f"{supported} of {len(rows)} sentences supported by the context "
            f"({score:.2f} {relation} {self.options.threshold:.2f})"
        )
        unsupported = [r["sentence"] for r in rows if not r["supported"]]
        if unsupported:
            explanation += f"; first unsupported: {clip(str(unsupported[0]), 120)}"
        return Verdict(score, passed, explanation, detail={"sentences": rows})
