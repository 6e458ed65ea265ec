"""Prompt types: the versioned spec (the registry payload of kind ``prompt``) and how the
API shows a prompt version."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from shipyard.core.errors import InvalidInput
from shipyard.prompts.template import variables_of

Role = Literal["system", "user", "assistant", "developer", "tool"]


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str = Field(max_length=1_000_000)
    name: str | None = None


class PromptParams(BaseModel):
    """Generation parameters that ship with the prompt (the request may override them)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class PromptSpec(BaseModel):
    """A text template or a list of chat messages, the variables it takes, and the model
    configuration it was written for.

    ``variables`` are declared; when left out they are read off the template. A template that
    reads a variable that is not declared is refused.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "chat"] | None = None
    template: str | None = Field(default=None, max_length=1_000_000)
    messages: list[PromptMessage] | None = None
    variables: list[str] | None = None
    defaults: dict[str, Any] = Field(default_factory=dict)
    model: str | None = Field(default=None, max_length=300)
    route: str | None = Field(default=None, max_length=300)
    params: PromptParams = Field(default_factory=PromptParams)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> PromptSpec:
        if (self.template is None) == (self.messages is None):
            raise ValueError("give a text 'template' or chat 'messages' (one of them)")
        kind: Literal["text", "chat"] = "text" if self.template is not None else "chat"
        if self.type is not None and self.type != kind:
            raise ValueError(f"type {self.type!r} does not fit a prompt given as {kind}")
        self.type = kind
        if self.messages is not None and not self.messages:
            raise ValueError("a chat prompt needs at least one message")
        if self.model and self.route:
            raise ValueError("give a 'model' or a 'route', not both")
        if self.variables is not None and info.context and info.context.get("stored"):
            return self  # checked when it was stored: loading skips parsing the templates
        used = self.template_variables()
        if self.variables is None:
            self.variables = sorted(used)
        else:
            bad = [v for v in self.variables if not v.isidentifier()]
            if bad:
                raise ValueError(f"variable names must be identifiers: {', '.join(bad)}")
            undeclared = sorted(used - set(self.variables))
            if undeclared:
                raise ValueError(
                    f"the template uses undeclared variable(s) {', '.join(undeclared)}: "
                    "add them to 'variables'"
                )
            self.variables = list(dict.fromkeys(self.variables))
        unknown = sorted(set(self.defaults) - set(self.variables))
        if unknown:
            raise ValueError(f"defaults for undeclared variable(s): {', '.join(unknown)}")
        return self

    def sources(self) -> list[tuple[str, str]]:
        """(where, template text) for the text template or each message."""
        if self.template is not None:
            return [("template", self.template)]
        return [
            (f"message {i + 1} ({m.role})", m.content) for i, m in enumerate(self.messages or [])
        ]

    def template_variables(self) -> set[str]:
        used: set[str] = set()
        for where, source in self.sources():
            used |= variables_of(source, where)
        return used

    @property
    def target(self) -> str | None:
        """What the gateway is asked for: the route, else the model."""
        return self.route or self.model

    def dump(self) -> dict[str, Any]:
        """The spec as stored and exported (empty fields left out)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "type": self.type,
            "variables": self.variables,
        }


def parse_spec(data: Any, where: str = "prompt") -> PromptSpec:
    """A spec from plain data, with a one-line error naming the field that is wrong."""
    if isinstance(data, PromptSpec):
        return data
    try:
        return PromptSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {field + ': ' if field else ''}{msg}") from None


class PromptVersion(BaseModel):
    """One version of a prompt, as the API returns it."""

    name: str
    version: int
    labels: list[str]
    spec: PromptSpec
    content_hash: str
    description: str
    tags: dict[str, str]
    created_at: int
    created_by: str
    approved: bool


class PromptSummary(BaseModel):
    name: str
    description: str
    latest_version: int | None
    labels: dict[str, int]
    protected: bool
    updated_at: int


class CreatePrompt(BaseModel):
    """A new version (the prompt is created with its first one)."""

    model_config = ConfigDict(extra="forbid")

    spec: PromptSpec
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)  # move these labels to the new version
    # an unchanged spec returns the newest version instead of adding one
    dedupe: bool = True


class PromptDiff(BaseModel):
    name: str
    from_version: int
    to_version: int
    diff: str  # unified diff of the rendered YAML of both versions
    changed: list[str]  # top-level fields that differ
