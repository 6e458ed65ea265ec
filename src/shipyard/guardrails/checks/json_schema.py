"""``json_schema``: an answer must be JSON matching a schema. A fenced block (```json ... ```)
is read too. With the ``retry`` action the gateway asks the model again, telling it what was
wrong, up to the policy's ``max_retries``."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.errors import InvalidInput
from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class JsonSchemaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")


def parse_json(text: str) -> Any:
    fenced = FENCE.search(text)
    return orjson.loads((fenced.group(1) if fenced else text).strip())


@CHECKS.register
class JsonSchema(Check):
    name = "json_schema"
    Options = JsonSchemaOptions

    def __init__(self, options: BaseModel) -> None:
        super().__init__(options)
        import jsonschema

        assert isinstance(options, JsonSchemaOptions)
        try:
            cls = jsonschema.validators.validator_for(options.schema_)
            cls.check_schema(options.schema_)
        except jsonschema.SchemaError as exc:
            raise InvalidInput(f"json_schema: the schema is invalid: {exc.message}") from None
        self.validator = cls(options.schema_)

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        try:
            value = parse_json(text)
        except orjson.JSONDecodeError as exc:
            return [Finding("INVALID_JSON", 0, len(text), 1.0, f"not JSON: {exc}")]
        problems = sorted(self.validator.iter_errors(value), key=lambda e: list(e.path))
        if problems:
            where = "/".join(map(str, problems[0].path)) or "the top level"
            detail = f"{where}: {problems[0].message}"
            return [Finding("SCHEMA_MISMATCH", 0, len(text), 1.0, detail)]
        return []
