"""The redactor the trace store uses for projects with ``redact_pii``: every PII entity and
secret the guardrail checks find is replaced by ``<TYPE>`` before a span is stored."""

from __future__ import annotations

from functools import cache

from shipyard.guardrails.checks.base import Check, ScanContext, build_check
from shipyard.guardrails.policy import redact

CONTEXT = ScanContext(stage="input")


@cache
def _checks() -> tuple[Check, ...]:
    return build_check("pii"), build_check("secrets")


def redact_text(text: str) -> str:
    if not text or len(text) < 5:
        return text
    found = [f for check in _checks() for f in check.scan(text, CONTEXT)]
    return redact(text, found) if found else text
