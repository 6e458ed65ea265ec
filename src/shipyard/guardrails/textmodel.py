"""A small linear text classifier that guardrail checks run in pure Python: no numpy at scan time.

Features of a folded text: its words, pairs of adjacent words, and pairs of adjacent characters
in scripts written without spaces (Chinese, Japanese). A logistic model weighs them; only the
features seen in training are stored, as a gzipped JSON file ``{"bias", "weights", "threshold",
...}``. A long text is scored in overlapping windows of ``WINDOW`` words and takes its highest
window: an instruction hidden in the middle of a long document is not diluted by the rest.

Training (``shipyard guardrails train``) needs scikit-learn (the ``ml`` extra); scoring does not.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[<>\[\]{}|#]+")
NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
WINDOW = 48


ASCII_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[<>\[\]{}|#]+")  # WORD on ASCII text, faster


def tokens(folded: str) -> list[str]:
    return (ASCII_WORD if folded.isascii() else WORD).findall(folded)


def features(words: list[str]) -> set[str]:
    out = set(words)
    out.update(_pairs(words))
    out.update(_char_pairs(words))
    return out


def _pairs(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(words)]


def _char_pairs(words: list[str]) -> list[str]:
    return [w[i : i + 2] for w in words if len(w) > 1 and NO_SPACES.match(w)
            for i in range(len(w) - 1)]  # fmt: skip


def windows(n: int) -> list[tuple[int, int]]:
    """Word ranges scored apart: the whole text when short, else overlapping windows."""
    if n <= WINDOW:
        return [(0, n)]
    step = WINDOW // 2
    return [(i, min(n, i + WINDOW)) for i in range(0, n - step, step)]


@dataclass(frozen=True, slots=True)
class TextModel:
    bias: float
    weights: dict[str, float]
    threshold: float  # a probability at or above it counts as a hit
    meta: dict[str, Any]
    known: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "known", frozenset(self.weights))

    def _sum(self, found: set[str]) -> float:
        total = sum(map(self.weights.__getitem__, found & self.known))
        if self.meta.get("norm") == "l2" and found:
            total /= math.sqrt(len(found))  # each text's features weigh as a unit vector
        return self.bias + total

    def _weighing(self, words: list[str], pairs: list[str]) -> tuple[list[str], list[str]]:
        """Words and pairs as windows take them: all of them when every feature counts toward
        the norm, else only those with a weight ("" for the rest), which makes windows cheap."""
        if self.meta.get("norm") == "l2":
            return words, pairs
        known = self.known
        return [w if w in known else "" for w in words], [p if p in known else "" for p in pairs]

    def probability(self, folded: str) -> float:
        words = original = tokens(folded)
        if not words:
            return 0.0
        spaced = NO_SPACES.search(folded) is None
        words, pairs = self._weighing(words, _pairs(words))
        best = -math.inf
        for start, end in windows(len(words)):
            part = set(words[start:end])
            part.update(pairs[start : end - 1])
            if not spaced:
                part.update(_char_pairs(original[start:end]))
            part.discard("")
            best = max(best, self._sum(part))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best))))

    def as_json(self) -> dict[str, Any]:
        return {"bias": self.bias, "threshold": self.threshold, "meta": self.meta,
                "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())}}  # fmt: skip

    def save(self, path: Path) -> None:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            json.dump(self.as_json(), f, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TextModel:
        return cls(float(data["bias"]), {k: float(v) for k, v in data["weights"].items()},
                   float(data["threshold"]), dict(data.get("meta") or {}))  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> TextModel:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return cls.from_json(json.load(f))


@cache
def shipped(name: str) -> TextModel:
    """A model that ships with Shipyard (``data/models/NAME.json.gz``)."""
    ref = files("shipyard.guardrails").joinpath(f"data/models/{name}.json.gz")
    return TextModel.from_json(json.loads(gzip.decompress(ref.read_bytes())))


@cache
def from_file(path: str) -> TextModel:
    return TextModel.load(path)


def chosen(option: str | None, name: str) -> TextModel | None:
    """A check's ``model`` option: "shipped" (the model ``name`` that ships), "none", or the
    path of one made by ``shipyard guardrails train``."""
    if option is None or option == "none":
        return None
    return shipped(name) if option == "shipped" else from_file(option)


def check_option(value: str | None) -> str | None:
    """Validates a ``model`` option: a path must name a file."""
    if value not in (None, "none", "shipped") and not Path(value).is_file():
        raise ValueError(f"no classifier file at {value} (give 'shipped', 'none' or a path)")
    return value
