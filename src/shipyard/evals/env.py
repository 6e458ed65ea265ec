"""What evaluators call on, over one SDK client: the local embedder, the gateway (judge calls
nest under the case's span), and the prompt registry (the judge prompt)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import NotFound
from shipyard.gateway.schemas import Operation
from shipyard.registry.schemas import parse_ref
from shipyard.tracing.sdk import current_span

if TYPE_CHECKING:
    from shipyard.localai.minilm import MiniLM
    from shipyard.prompts.prompt import Prompt
    from shipyard.sdk import Client


class ClientEnv:
    def __init__(self, client: Client, judge_model: str | None = None) -> None:
        self.client = client
        self.judge_model = judge_model or client.settings.prompts.eval_judge_model
        self._embedder: MiniLM | None = None
        self._lock = threading.Lock()
        self._prompts: dict[str, Prompt] = {}

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            if self._embedder is None:
                from shipyard.localai.minilm import MiniLM

                self._embedder = MiniLM()
        return [list(map(float, row)) for row in self._embedder.embed(texts)]

    def _call(self, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
        context: dict[str, str | None] = {}
        span = current_span()
        if span is not None:
            context["traceparent"] = f"00-{span.trace_id}-{span.span_id}-01"
            context["project"] = span.fields.get("project")
        return self.client.gateway.call(operation, body, **context).body

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("chat", body)

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("text_completion", body)

    def prompt(self, ref: str, default: dict[str, Any] | None = None) -> Prompt:
        """The prompt behind ``ref``, fetched once per run; a missing one is registered from
        ``default`` (with the judge model when it names none) and labelled."""
        cached = self._prompts.get(ref)
        if cached is not None:
            return cached
        name, label, version = parse_ref(ref)
        with self._lock:
            try:
                prompt = self.client.prompts.get(name, label, version)
            except NotFound:
                if default is None or version is not None:
                    raise
                spec = dict(default)
                if not spec.get("model") and not spec.get("route"):
                    spec["model"] = self.judge_model
                prompt = self.client.prompts.create(
                    name, spec=spec, labels=[label or "production"],
                    description="the default LLM judge (registered on first use)",
                )  # fmt: skip
            self._prompts[ref] = prompt
        return prompt
