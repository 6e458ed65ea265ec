"""Eval sets as files: JSONL (one case per line), CSV (one case per row), or a YAML/JSON
document with ``assert:`` (applied to every case) and ``cases:``.

CSV columns: ``id``, ``expected``, ``reference``, ``context``, ``tags`` (separated by ``;``),
``assert`` and ``messages`` (JSON); every other column is a variable (``vars.`` prefix
optional).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import yaml

from shipyard.core.errors import InvalidInput
from shipyard.evals.schemas import EvalCase, EvalSetSpec, check_cases

SPECIAL = ("id", "expected", "reference", "context", "tags", "assert", "messages", "metadata")


def read_evalset_file(path: Path) -> EvalSetSpec:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        raw = _jsonl(text, path)
        return EvalSetSpec(cases=check_cases(raw))
    if suffix == ".csv":
        return EvalSetSpec(cases=check_cases(_csv_rows(text, path)))
    if suffix in (".yaml", ".yml", ".json"):
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path}: not valid YAML/JSON: {exc}") from None
        if isinstance(doc, list):
            doc = {"cases": doc}
        if not isinstance(doc, dict):
            raise InvalidInput(f"{path}: expected a mapping with cases: (and assert:)")
        cases = check_cases(doc.get("cases") or [])
        try:
            return EvalSetSpec.model_validate({**doc, "cases": cases})
        except ValueError as exc:
            raise InvalidInput(f"{path}: {exc}") from None
    raise InvalidInput(f"{path}: use .jsonl, .csv, .yaml or .json")


def _jsonl(text: str, path: Path) -> list[Any]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"{path}, line {n}: not JSON: {exc}") from None
    return out


def _csv_rows(text: str, path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, row in enumerate(csv.DictReader(io.StringIO(text)), 2):
        case: dict[str, Any] = {"vars": {}}
        for key, value in row.items():
            if key is None:
                raise InvalidInput(f"{path}, line {n}: more values than columns")
            key = key.strip()
            if value is None or value == "":
                continue
            if key in ("assert", "messages", "metadata"):
                try:
                    case[key] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise InvalidInput(f"{path}, line {n}: column {key} is not JSON") from None
            elif key == "tags":
                case["tags"] = [t.strip() for t in value.split(";") if t.strip()]
            elif key in SPECIAL:
                case[key] = value
            else:
                case["vars"][key.removeprefix("vars.")] = value
        rows.append(case)
    return rows


def write_jsonl(cases: list[EvalCase]) -> str:
    return "".join(orjson.dumps(c.dump()).decode() + "\n" for c in cases)


def write_csv(cases: list[EvalCase]) -> str:
    names = sorted({k for c in cases for k in c.vars})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *names, "expected", "reference", "context", "tags", "assert",
                     "messages"])  # fmt: skip
    for c in cases:
        writer.writerow([
            c.id, *[_cell(c.vars.get(n)) for n in names], _cell(c.expected), c.reference or "",
            _cell(c.context), ";".join(c.tags),
            orjson.dumps(c.assertions).decode() if c.assertions else "",
            orjson.dumps(c.messages).decode() if c.messages else "",
        ])  # fmt: skip
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()
