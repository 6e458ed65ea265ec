"""Scoring checks on labeled cases: precision, recall and F1 per check, for whole texts (did it
fire when it should) and for entities (did it find each labeled value, and nothing else), plus
how often each check fires on the benign look-alikes.

A case is one JSON line:

    {"id": "pii-001", "group": "pii", "text": "...",
     "expect": {"pii": [{"type": "EMAIL_ADDRESS", "value": "jane@example.com"}],
                "secrets": [...], "injection": true, "toxicity": false}}

A check missing from ``expect`` should not fire on that text. PII entities must match in type
and overlap; secrets need only overlap (a token is a secret whatever its kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.guardrails.checks.base import Check, Finding, ScanContext, build_check

SPAN_CHECKS = ("pii", "secrets")
DEFAULT_CHECKS = ("pii", "secrets", "injection", "toxicity")
BENIGN = "benign"


def shipped_cases() -> Path:
    """The shipped corpus: ``core.jsonl`` (written with the checks) and ``review.jsonl``
    (written apart from them, then used to find what they missed)."""
    return Path(str(files("shipyard.guardrails").joinpath("data/corpus")))


def text_record(line: str, where: str) -> dict[str, Any]:
    """One JSON line holding an object with a ``text`` field (a case, or a text to check)."""
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not JSON: {exc}") from None
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise InvalidInput(f'{where}: a JSON line needs an object with a "text" field')
    return item


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Cases from a JSONL file, or from every ``*.jsonl`` file of a folder."""
    if path.is_dir():
        return [c for f in sorted(path.glob("*.jsonl")) for c in load_cases(f)]
    if not path.is_file():
        raise InvalidInput(f"no cases file at {path}")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = text_record(line, f"{path}:{n}")
        case.setdefault("id", f"case-{n}")
        case.setdefault("expect", {})
        cases.append(case)
    return cases


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float | None]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        return {"precision": p, "recall": r, "f1": f1, "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class CheckReport:
    check: str
    texts: Counts = field(default_factory=Counts)
    entities: Counts = field(default_factory=Counts)
    by_type: dict[str, Counts] = field(default_factory=dict)
    benign: int = 0
    benign_fired: int = 0
    misses: list[str] = field(default_factory=list)  # case ids, for debugging
    false_alarms: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "texts": self.texts.scores()}
        if self.check in SPAN_CHECKS:
            out["entities"] = self.entities.scores()
            out["by_type"] = {t: c.scores() for t, c in sorted(self.by_type.items())}
        out["benign_false_positive_rate"] = self.benign_fired / self.benign if self.benign else None
        out["misses"], out["false_alarms"] = self.misses, self.false_alarms
        return out


def _expected_spans(case: dict[str, Any], check: str) -> list[tuple[str, int, int]]:
    spans = []
    for item in case["expect"].get(check) or []:
        start = case["text"].find(item["value"])
        if start < 0:
            raise InvalidInput(f"case {case['id']}: {item['value']!r} is not in its text")
        spans.append((item["type"], start, start + len(item["value"])))
    return spans


def _match(
    check: str, want: list[tuple[str, int, int]], found: list[Finding], rep: CheckReport
) -> None:
    used: set[int] = set()
    for kind, start, end in want:
        counts = rep.by_type.setdefault(kind, Counts())
        hit = next((i for i, f in enumerate(found) if i not in used and f.start < end
                    and start < f.end and (check != "pii" or f.type == kind)), None)  # fmt: skip
        if hit is None:
            rep.entities.fn += 1
            counts.fn += 1
        else:
            used.add(hit)
            rep.entities.tp += 1
            counts.tp += 1
    for i, f in enumerate(found):
        if i not in used:
            rep.entities.fp += 1
            rep.by_type.setdefault(f.type, Counts()).fp += 1


def evaluate(
    cases: list[dict[str, Any]], checks: dict[str, Check] | None = None
) -> list[CheckReport]:
    checks = checks or {name: build_check(name) for name in DEFAULT_CHECKS}
    reports = {name: CheckReport(name) for name in checks}
    for case in cases:
        for name, check in checks.items():
            rep = reports[name]
            found = check.scan(case["text"], ScanContext())
            expected = case["expect"].get(name)
            should = bool(expected)
            fired = bool(found)
            if should and fired:
                rep.texts.tp += 1
            elif fired:
                rep.texts.fp += 1
                rep.false_alarms.append(case["id"])
            elif should:
                rep.texts.fn += 1
                rep.misses.append(case["id"])
            if case.get("group") == BENIGN:
                rep.benign += 1
                rep.benign_fired += fired
            if name in SPAN_CHECKS:
                _match(name, _expected_spans(case, name), found, rep)
    return list(reports.values())
