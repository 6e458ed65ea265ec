"""Eval sets, evaluators, eval runs, comparison and the CI gate."""
