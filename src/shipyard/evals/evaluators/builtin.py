"""Imports every built-in evaluator module so that each registers its evaluators."""

from shipyard.evals.evaluators import (  # noqa: F401  (registers on import)
    custom,
    groundedness,
    judge,
    limits,
    match,
    refusal,
    similarity,
    structured,
)
