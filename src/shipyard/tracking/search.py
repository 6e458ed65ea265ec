"""The run filter language, e.g. ``metrics.auc > 0.9 and params.model = 'rf'``.

Grammar (case-insensitive keywords)::

    expr    := term (OR term)*
    term    := factor (AND factor)*
    factor  := NOT factor | '(' expr ')' | compare
    compare := ident op value | ident [NOT] IN '(' value, ... ')' | ident IS [NOT] NULL
    ident   := [metrics|params|tags|attributes] '.' name    (or a bare attribute name)
    op      := = | == | != | <> | < | <= | > | >= | LIKE | ILIKE | NOT LIKE | NOT ILIKE

Names with spaces or punctuation go in backticks or double quotes. Metrics compare
by their latest value (NaN counts as NULL); params and tags compare as text with a
text literal and by their numeric reading with a number (``params.lr < 0.01``).
LIKE is case-sensitive, ILIKE is not; ``\\`` escapes ``%`` and ``_``.
Attributes: ``status``, ``name`` (``run_name``), ``id`` (``run_id``), ``experiment_id``,
``parent_run_id``, ``created_by``, ``start_time``, ``end_time``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import UnaryExpression

from shipyard.core.errors import InvalidInput
from shipyard.tracking.models import LatestMetricRow, ParamRow, RunRow, RunTagRow

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![\w.])
    | (?P<str>'(?:[^'\\]|\\.|'')*')
    | (?P<quoted>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<op>==|!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),.])
    | (?P<word>[A-Za-z_][\w\-:/]*)
    )""",
    re.VERBOSE,
)

ATTRIBUTES: dict[str, Any] = {
    "status": RunRow.status,
    "name": RunRow.name,
    "run_name": RunRow.name,
    "id": RunRow.id,
    "run_id": RunRow.id,
    "experiment_id": RunRow.experiment_id,
    "parent_run_id": RunRow.parent_run_id,
    "created_by": RunRow.created_by,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
}
_PREFIXES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInput(
                f"cannot read the filter at position {pos}: {text[pos : pos + 20]!r}"
            )
        kind = m.lastgroup or ""
        toks.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return toks


@dataclass
class _Ident:
    space: str  # metrics | params | tags | attributes
    name: str


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def is_word(self, word: str, offset: int = 0) -> bool:
        t = self.peek(offset)
        return t is not None and t.kind == "word" and t.text.lower() == word

    def take(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise InvalidInput(f"the filter ends too early: {self.text!r}")
        self.i += 1
        return t

    def expect(self, text: str) -> None:
        t = self.take()
        if t.text.lower() != text:
            raise InvalidInput(f"expected {text!r} at position {t.pos}, found {t.text!r}")

    def parse(self) -> ColumnElement[bool]:
        cond = self.expr()
        if self.peek() is not None:
            t = self.take()
            raise InvalidInput(f"unexpected {t.text!r} at position {t.pos} in the filter")
        return cond

    def expr(self) -> ColumnElement[bool]:
        parts = [self.term()]
        while self.is_word("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else or_(*parts)

    def term(self) -> ColumnElement[bool]:
        parts = [self.factor()]
        while self.is_word("and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else and_(*parts)

    def factor(self) -> ColumnElement[bool]:
        if self.is_word("not") and not self.is_word("in", 1):
            self.take()
            return not_(self.factor())
        t = self.peek()
        if t is not None and t.text == "(":
            self.take()
            cond = self.expr()
            self.expect(")")
            return cond
        return self.compare()

    def name(self) -> str:
        t = self.take()
        if t.kind == "quoted":
            return t.text[1:-1]
        if t.kind == "str":
            return _unquote(t.text)
        if t.kind == "word":
            return t.text
        raise InvalidInput(f"expected a name at position {t.pos}, found {t.text!r}")

    def ident(self) -> _Ident:
        first = self.name()
        nxt = self.peek()
        if nxt is not None and nxt.text == ".":
            self.take()
            space = _PREFIXES.get(first.lower())
            if space is None:
                raise InvalidInput(
                    f"unknown prefix {first!r}: use metrics., params., tags. or attributes."
                )
            return _Ident(space, self.name())
        return _Ident("attributes", first)

    def value(self) -> Any:
        t = self.take()
        if t.kind == "num":
            return float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
        if t.kind == "str":
            return _unquote(t.text)
        if t.kind == "quoted" and t.text.startswith('"'):
            return t.text[1:-1]
        raise InvalidInput(f"expected a value at position {t.pos}, found {t.text!r}")

    def compare(self) -> ColumnElement[bool]:
        ident = self.ident()
        if self.is_word("is"):
            self.take()
            negate = self.is_word("not")
            if negate:
                self.take()
            self.expect("null")
            return _build(ident, "is not null" if negate else "is null", None)
        negate = False
        if self.is_word("not"):
            self.take()
            negate = True
        t = self.take()
        op = t.text.lower()
        if op == "in":
            self.expect("(")
            values = [self.value()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                values.append(self.value())
            self.expect(")")
            return _build(ident, "not in" if negate else "in", values)
        if op in ("like", "ilike"):
            return _build(ident, ("not " if negate else "") + op, self.value())
        if negate or t.kind != "op":
            raise InvalidInput(f"expected an operator at position {t.pos}, found {t.text!r}")
        return _build(ident, {"==": "=", "<>": "!="}.get(op, op), self.value())


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'").replace("\\'", "'")


def _apply(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    ops = {
        "=": lambda: col == value,
        "!=": lambda: col != value,
        "<": lambda: col < value,
        "<=": lambda: col <= value,
        ">": lambda: col > value,
        ">=": lambda: col >= value,
        "like": lambda: col.like(value, escape="\\"),
        "not like": lambda: col.not_like(value, escape="\\"),
        "ilike": lambda: func.lower(col).like(str(value).lower(), escape="\\"),
        "not ilike": lambda: not_(func.lower(col).like(str(value).lower(), escape="\\")),
        "in": lambda: col.in_(value),
        "not in": lambda: col.not_in(value),
    }
    return ops[op]()


NUMERIC_ATTRIBUTES = {"start_time", "end_time"}


def _check_types(ident: _Ident, op: str, value: Any, numeric: bool) -> None:
    """Reject comparisons the databases would treat differently (or refuse)."""
    if value is None:
        return
    if op.endswith("like") and not isinstance(value, str):
        raise InvalidInput(f"LIKE needs a text pattern, not {value!r}")
    if op.endswith("like") and numeric:
        raise InvalidInput(f"LIKE does not apply to the number {ident.space}.{ident.name}")
    if numeric and not _numeric(value):
        raise InvalidInput(f"{ident.space}.{ident.name} compares with numbers, not {value!r}")
    if not numeric and ident.space == "attributes" and _numeric(value):
        raise InvalidInput(f"{ident.name} compares with text, not {value!r}")


def _build(ident: _Ident, op: str, value: Any) -> ColumnElement[bool]:
    if ident.space == "attributes":
        col = ATTRIBUTES.get(ident.name.lower())
        if col is None:
            raise InvalidInput(
                f"unknown run attribute {ident.name!r}; known: {', '.join(sorted(ATTRIBUTES))}"
            )
        if op == "is null":
            return col.is_(None)
        if op == "is not null":
            return col.is_not(None)
        _check_types(ident, op, value, ident.name.lower() in NUMERIC_ATTRIBUTES)
        if ident.name.lower() == "status":
            value = [str(v).upper() for v in value] if isinstance(value, list) else value
            value = value.upper() if isinstance(value, str) else value
        return _apply(col, op, value)
    table: Any = {"metrics": LatestMetricRow, "params": ParamRow, "tags": RunTagRow}[ident.space]
    row_match = and_(table.run_id == RunRow.id, table.key == ident.name)
    has_value = exists().where(row_match, table.value.is_not(None))
    if op == "is null":  # absent, or (for metrics) NaN
        return ~has_value
    if op == "is not null":
        return has_value
    if ident.space == "metrics":
        _check_types(ident, op, value, numeric=True)
        col = table.value
    elif _numeric(value):  # params and tags: numbers compare with the value's numeric reading
        _check_types(ident, op, value, numeric=True)
        col = table.value_num
    else:
        _check_types(ident, op, value, numeric=False)
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise InvalidInput("an IN list mixes numbers and text")
        col = table.value
    return exists().where(row_match, _apply(col, op, value))


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return all(_numeric(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_filter(text: str) -> ColumnElement[bool] | None:
    """The SQL condition on ``runs`` for a filter string (None when it is empty)."""
    if not text or not text.strip():
        return None
    return _Parser(text).parse()


def parse_order_by(items: list[str]) -> tuple[list[Any], list[UnaryExpression[Any]]]:
    """(outer joins to add, ORDER BY clauses) for items like ``metrics.auc DESC``."""
    joins: list[Any] = []
    clauses: list[UnaryExpression[Any]] = []
    for raw in items:
        parts = raw.strip().rsplit(None, 1)
        direction = "asc"
        if len(parts) == 2 and parts[1].lower() in ("asc", "desc"):
            direction = parts[1].lower()
            target = parts[0]
        else:
            target = raw.strip()
        p = _Parser(target)
        ident = p.ident()
        if p.peek() is not None:
            raise InvalidInput(f"cannot order by {raw!r}")
        if ident.space == "attributes":
            col = ATTRIBUTES.get(ident.name.lower())
            if col is None:
                raise InvalidInput(f"cannot order by unknown attribute {ident.name!r}")
        else:
            table: Any = {"metrics": LatestMetricRow, "params": ParamRow, "tags": RunTagRow}[
                ident.space
            ]
            alias = aliased(table)
            joins.append((alias, and_(alias.run_id == RunRow.id, alias.key == ident.name)))
            if ident.space != "metrics":  # numbers in numeric order, then text
                num = alias.value_num.desc() if direction == "desc" else alias.value_num.asc()
                clauses.append(num.nulls_last())
            col = alias.value
        clause = col.desc() if direction == "desc" else col.asc()
        clauses.append(clause.nulls_last())
    return joins, clauses
