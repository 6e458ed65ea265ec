"""A prompt version in the hands of application code: render it, or call the model with it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.gateway.schemas import Operation
from shipyard.prompts.schemas import PromptSpec, PromptVersion, parse_spec
from shipyard.prompts.template import Template, check_given

if TYPE_CHECKING:
    from shipyard.sdk import Client


@dataclass(slots=True)
class Completion:
    """A model's answer to a rendered prompt, with what it cost and where it is traced."""

    text: str
    body: dict[str, Any]
    prompt: str  # name/version
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float = 0.0
    trace_id: str | None = None
    finish_reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Prompt:
    """One prompt version (or a fallback standing in for one).

    ``render(**vars)`` gives the text, or the chat messages; ``complete(**vars)`` sends them
    through the gateway with the prompt's model and parameters, and links the call's trace to
    this version.
    """

    def __init__(
        self, data: PromptVersion, *, client: Client | None = None, is_fallback: bool = False
    ) -> None:
        self.data = data
        self.is_fallback = is_fallback
        self._client = client
        self._templates: list[tuple[str | None, Template]] | None = None

    @classmethod
    def from_spec(
        cls, name: str, spec: PromptSpec | dict[str, Any] | str | list[dict[str, Any]],
        *, client: Client | None = None,
    ) -> Prompt:  # fmt: skip
        """A prompt that is not (yet) in the registry: a fallback, or a draft to try out."""
        if isinstance(spec, str):
            spec = {"template": spec}
        elif isinstance(spec, list):
            spec = {"messages": spec}
        spec = parse_spec(spec, f"prompt {name}")
        data = PromptVersion(
            name=name, version=0, labels=[], spec=spec, content_hash="", description="",
            tags={}, created_at=0, created_by="", approved=False,
        )  # fmt: skip
        return cls(data, client=client, is_fallback=True)

    # -- what it is ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def version(self) -> int:
        return self.data.version

    @property
    def labels(self) -> list[str]:
        return self.data.labels

    @property
    def spec(self) -> PromptSpec:
        return self.data.spec

    @property
    def type(self) -> str:
        return self.data.spec.type or "text"

    @property
    def variables(self) -> list[str]:
        return list(self.data.spec.variables or [])

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def __repr__(self) -> str:
        tail = " fallback" if self.is_fallback else f" labels={self.labels}"
        return f"<Prompt {self.ref} {self.type}{tail}>"

    # -- rendering -------------------------------------------------------------------------------

    def _compiled(self) -> list[tuple[str | None, Template]]:
        if self._templates is None:
            spec = self.data.spec
            where = f"prompt {self.ref}"
            if spec.template is not None:
                self._templates = [(None, Template(spec.template, where))]
            else:
                self._templates = [
                    (m.role, Template(m.content, f"{where}, message {i + 1}"))
                    for i, m in enumerate(spec.messages or [])
                ]
        return self._templates

    def _values(self, values: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.data.spec.defaults, **values}
        check_given(self.variables, merged, f"prompt {self.ref}")
        return merged

    def render(self, **values: Any) -> str | list[dict[str, str]]:
        """The text (text prompt) or the messages (chat prompt) with the variables filled in."""
        merged = self._values(values)
        parts = [(role, t.render(merged)) for role, t in self._compiled()]
        if self.data.spec.template is not None:
            return parts[0][1]
        return [{"role": role or "user", "content": text} for role, text in parts]

    def request(
        self, values: dict[str, Any] | None = None, *, model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[Operation, dict[str, Any]]:  # fmt: skip
        """The gateway operation and OpenAI request body this prompt makes."""
        target = model or self.data.spec.target
        if not target:
            raise InvalidInput(
                f"prompt {self.ref} names no model or route: set one in the prompt, or pass model="
            )
        body: dict[str, Any] = {"model": target, **self.data.spec.params.body(), **(params or {})}
        rendered = self.render(**(values or {}))
        if isinstance(rendered, str):
            body["prompt"] = rendered
            return "text_completion", body
        body["messages"] = rendered
        return "chat", body

    # -- calling the model -----------------------------------------------------------------------

    def complete(self, **values: Any) -> Completion:
        """Render with ``values`` and call the model through the gateway."""
        return self.complete_with(values)

    def complete_with(
        self, values: dict[str, Any], *, model: str | None = None,
        params: dict[str, Any] | None = None, **context: str | None,
    ) -> Completion:  # fmt: skip
        """``complete`` with a model or parameters other than the prompt's, and call context
        (tenant, feature, user, session)."""
        client = self._client
        if client is None:
            from shipyard.sdk import get_client

            client = get_client()
        operation, body = self.request(values, model=model, params=params)
        with client.span(f"prompt {self.name}", kind="chain") as span:
            span.fields["prompt_name"], span.fields["prompt_version"] = self.name, self.version
            span.set_attributes({
                "shipyard.prompt.name": self.name,
                "shipyard.prompt.version": self.version,
                "shipyard.prompt.fallback": self.is_fallback or None,
                "llm.prompt_template.variables": orjson.dumps(values, default=str).decode(),
            })  # fmt: skip
            span.set_input(values)
            if not self.is_fallback:
                context["prompt"] = self.ref
            context["traceparent"] = f"00-{span.trace_id}-{span.span_id}-01"
            context.setdefault("project", span.fields.get("project"))
            start = time.perf_counter()
            reply = client.gateway.call(operation, body, **context)
            out = _completion(self.ref, reply.body, reply.headers, time.perf_counter() - start)
            span.set_output(out.text)
            # the cost is on the gateway's llm span below this one; a trace sums its spans
            span.set_usage(model=out.model)
            out.trace_id = span.trace_id
            return out


def _completion(
    ref: str, body: dict[str, Any], headers: dict[str, str], elapsed_s: float
) -> Completion:
    choices = body.get("choices") or [{}]
    first = choices[0]
    if "message" in first:
        text = (first.get("message") or {}).get("content") or ""
    else:
        text = first.get("text") or ""
    usage = body.get("usage") or {}
    cost = headers.get("x-shipyard-cost-usd")
    return Completion(
        text=text, body=body, prompt=ref, model=body.get("model"),
        input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"),
        cost_usd=float(cost) if cost is not None else None, latency_ms=elapsed_s * 1000,
        trace_id=headers.get("x-shipyard-trace-id"), finish_reason=first.get("finish_reason"),
        headers=headers,
    )  # fmt: skip
