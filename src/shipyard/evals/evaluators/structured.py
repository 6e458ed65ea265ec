"""Structured answers: ``is-json`` and ``json-schema``.

Both read the answer through ``Output.json()``, so a fenced ```json block is accepted."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for
from pydantic import Field, field_validator
from referencing.exceptions import Unresolvable

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, register_evaluator
from shipyard.evals.evaluators.match import clip
from shipyard.evals.schemas import EvalCase, Output, Verdict

JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _parse(output: Output) -> tuple[Any, Verdict | None]:
    """The parsed answer, or a failing verdict saying why it is not JSON."""
    try:
        return output.json(), None
    except ValueError as exc:
        reason = str(exc).split("\n", 1)[0]
        return None, Verdict(0.0, False, f"not valid JSON ({reason}): {clip(output.text, 60)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return JSON_TYPES.get(type(value), "a number")


@register_evaluator
class IsJson(Evaluator):
    """The answer parses as JSON."""

    name = "is-json"

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        value, failed = _parse(output)
        if failed is not None:
            return failed
        return Verdict(1.0, True, f"valid JSON ({_kind(value)})")


@register_evaluator
class JsonSchema(Evaluator):
    """The answer is JSON that validates against a JSON Schema (its ``$schema``'s draft,
    else 2020-12; ``format`` is checked where the validator knows the format)."""

    name = "json-schema"

    class Options(base.Options):
        schema_: dict[str, Any] = Field(alias="schema")  # "schema" shadows BaseModel.schema

        @field_validator("schema_")
        @classmethod
        def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
            checker = validator_for(value, default=Draft202012Validator)
            try:
                checker.check_schema(value)
            except SchemaError as exc:
                where = exc.json_path if exc.path else "the schema"
                raise ValueError(f"invalid JSON schema at {where}: {exc.message}") from None
            return value

    options: Options

    def __init__(self, options: Options, env: base.EvalEnv) -> None:
        super().__init__(options, env)
        cls = validator_for(options.schema_, default=Draft202012Validator)
        self.validator = cls(options.schema_, format_checker=cls.FORMAT_CHECKER)

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        value, failed = _parse(output)
        if failed is not None:
            return failed
        try:
            errors = list(self.validator.iter_errors(value))
        except Unresolvable as exc:
            return Verdict(0.0, False, f"cannot resolve a $ref in the schema: {exc}", error=True)
        if not errors:
            return Verdict(1.0, True, "matches the schema")
        first = best_match(errors)
        count = f"{len(errors)} schema errors, first" if len(errors) > 1 else "schema error"
        return Verdict(
            0.0,
            False,
            f"{count} at {first.json_path}: {first.message}",
            detail={"errors": [{"path": e.json_path, "message": e.message} for e in errors]},
        )
