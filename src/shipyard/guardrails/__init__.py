"""Guardrails: checks on the text going into and out of models (PII, secrets, prompt injection,
toxicity, topics, length, JSON schema), policies that say which run where and what they do,
and their evaluation on labeled data."""
