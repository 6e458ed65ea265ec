"""Training a guardrail text model on labeled cases (the corpus format of ``evaluate``).

A case is positive when ``expect[check]`` is true. The regularisation strength is chosen by
stratified cross-validation, and the decision threshold from the out-of-fold probabilities:
the lowest one whose false-positive rate on the negatives stays within ``max_fp``. The
figures reported are those out-of-fold ones, so they are not measured on training texts.

Needs scikit-learn (the ``ml`` extra).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import InvalidInput
from shipyard.guardrails.checks.normalize import fold
from shipyard.guardrails.textmodel import TextModel, features, tokens

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass
class TrainReport:
    cases: int
    positives: int
    features: int
    c: float
    threshold: float
    precision: float
    recall: float
    false_positive_rate: float

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _fit(
    docs: list[set[str]], labels: list[int], c: float, norm: str, min_df: int = 2
) -> TextModel:
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df = Counter(f for d in docs for f in d)
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= min_df))}
    rows, cols, values = [], [], []
    for r, d in enumerate(docs):
        # as TextModel scores: each feature 1, or the row scaled to unit length ("l2")
        unit = 1 / math.sqrt(len(d)) if d and norm == "l2" else 1.0
        for f in d:
            if f in vocab:
                rows.append(r)
                cols.append(vocab[f])
                values.append(unit)
    x = csr_matrix((values, (rows, cols)), shape=(len(docs), len(vocab)))
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear")
    model.fit(x, np.asarray(labels))
    coef = model.coef_[0]
    weights = {f: float(coef[i]) for f, i in vocab.items() if abs(coef[i]) >= 1e-3}
    return TextModel(float(model.intercept_[0]), weights, 0.5, {"norm": norm})


def _threshold(probs: list[float], labels: list[int], max_fp: float) -> float:
    negatives = sorted((p for p, y in zip(probs, labels, strict=True) if not y), reverse=True)
    allowed = int(max_fp * len(negatives))
    # above the (allowed+1)-th highest negative: at most `allowed` negatives reach it
    floor = negatives[allowed] if allowed < len(negatives) else 0.0
    return min(0.99, max(0.5, floor + 1e-6))


def _rates(probs: list[float], labels: list[int], t: float) -> tuple[float, float, float]:
    tp = sum(1 for p, y in zip(probs, labels, strict=True) if y and p >= t)
    fp = sum(1 for p, y in zip(probs, labels, strict=True) if not y and p >= t)
    pos = sum(labels)
    neg = len(labels) - pos
    return (tp / (tp + fp) if tp + fp else 0.0, tp / pos if pos else 0.0, fp / neg if neg else 0.0)


def train(
    cases: list[dict[str, Any]], check: str = "injection", *, max_fp: float = 0.02,
    folds: int = 5, seed: int = 0, norm: str = "none",
) -> tuple[TextModel, TrainReport]:  # fmt: skip
    import random

    # the same text from several files counts once, positive if any of them says so
    merged: dict[str, dict[str, Any]] = {}
    for case in cases:
        if case["text"] not in merged or case.get("expect", {}).get(check):
            merged[case["text"]] = case
    cases = list(merged.values())
    labels = [1 if c.get("expect", {}).get(check) else 0 for c in cases]
    if sum(labels) < folds or len(labels) - sum(labels) < folds:
        raise InvalidInput(f"training needs at least {folds} positive and {folds} negative cases")
    folded = [fold(c["text"]) for c in cases]
    docs = [features(tokens(t)) for t in folded]
    order = list(range(len(cases)))
    random.Random(seed).shuffle(order)
    # stratified folds: positives and negatives dealt out in turn
    fold_of = {}
    for label in (0, 1):
        for n, i in enumerate(i for i in order if labels[i] == label):
            fold_of[i] = n % folds
    best: tuple[float, float, list[float]] | None = None
    for c in C_GRID:
        probs = [0.0] * len(cases)
        for k in range(folds):
            train_idx = [i for i in order if fold_of[i] != k]
            model = _fit([docs[i] for i in train_idx], [labels[i] for i in train_idx], c, norm)
            for i in order:
                if fold_of[i] == k:
                    probs[i] = model.probability(folded[i])
        t = _threshold(probs, labels, max_fp)
        _, recall, _ = _rates(probs, labels, t)
        if best is None or recall > best[1]:
            best = (c, recall, probs)
    assert best is not None
    c, _, probs = best
    t = _threshold(probs, labels, max_fp)
    precision, recall, fpr = _rates(probs, labels, t)
    final = _fit(docs, labels, c, norm)
    meta = {"norm": norm, "check": check, "cases": len(cases), "positives": sum(labels), "c": c,
            "cv_precision": round(precision, 4), "cv_recall": round(recall, 4),
            "cv_false_positive_rate": round(fpr, 4)}  # fmt: skip
    model = TextModel(final.bias, final.weights, t, meta)
    report = TrainReport(len(cases), sum(labels), len(final.weights), c, t, precision, recall, fpr)
    return model, report
