"""RAG apps: a named, versioned pairing of an index alias, a prompt alias and a route.

An app is a registry entry of kind ``app`` whose payload is an :class:`AppSpec`. Asking it a
question:

1. searches the index version behind ``index_label`` (a retrieval span);
2. renders the prompt behind ``prompt_label`` with ``question`` and ``context`` — the chunks,
   numbered ``[1]``, ``[2]``... with their sources — and calls the model through the gateway
   (the gateway's llm span joins the same trace, linked to the prompt version);
3. returns the answer with its citations (the chunks, each marked ``cited`` when the answer
   refers to its number), and a groundedness score of the answer against the chunks — the
   hallucination proxy of the eval suite — stored as a score on the trace.

Where the answer is made depends on the caller: in the server for the REST API and remote
clients, in the process for an embedded client. Both run this module.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.batching import Batcher
from shipyard.core.errors import InvalidInput
from shipyard.rag.retrieval import Hit, Mode, SearchRequest, SearchResult
from shipyard.tracing.schemas import SpanIn
from shipyard.tracing.sdk import open_span

if TYPE_CHECKING:
    from shipyard.core.identity import Actor
    from shipyard.platform import Platform

GatewayCall = Callable[[str, dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]
_MARK = re.compile(r"\[(\d{1,3})\]")
REQUIRED_VARIABLES = ("question", "context")


class AppSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: str
    index_label: str = "production"
    prompt: str
    prompt_label: str = "production"
    route: str | None = Field(default=None, description="overrides the prompt's model or route")
    k: int = Field(4, ge=1, le=50)
    mode: Mode = "hybrid"
    filters: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict, description="e.g. max_tokens")
    context_chars: int = Field(6000, ge=200, le=200_000)
    policy: str | None = Field(default=None, description="a guardrail policy (NAME[@label])")


class Citation(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading: str
    page: int | None
    score: float
    cited: bool
    text: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=20_000)
    label: str | None = Field(default=None, description="the app alias (default production)")
    user: str | None = None
    session: str | None = None


class RagAnswer(BaseModel):
    app: str
    app_version: int
    answer: str
    citations: list[Citation]
    groundedness: float | None
    groundedness_explanation: str = ""
    index: str
    index_version: int
    prompt: str  # name/version
    model: str | None = None
    trace_id: str
    latency_ms: float
    cost_usd: float | None = None
    best_score: float | None = None
    blocked: bool = False  # the app's guardrail policy refused the question or the answer


def format_context(hits: list[Hit], limit: int) -> tuple[str, int]:
    """The numbered context block and how many chunks fit in ``limit`` characters."""
    parts: list[str] = []
    used = 0
    for n, hit in enumerate(hits, start=1):
        where = hit.source + (f", page {hit.page}" if hit.page else "")
        where += f" — {hit.heading}" if hit.heading else ""
        block = f"[{n}] ({where})\n{hit.text.strip()}"
        if parts and used + len(block) > limit:
            break
        parts.append(block[:limit])
        used += len(block) + 2
    return "\n\n".join(parts), len(parts)


def citations(hits: list[Hit], answer: str, shown: int) -> list[Citation]:
    marked = {int(m) for m in _MARK.findall(answer)}
    return [
        Citation(n=n, chunk_id=h.chunk_id, doc_id=h.doc_id, source=h.source, title=h.title,
                 heading=h.heading, page=h.page, score=h.score, cited=n in marked, text=h.text)
        for n, h in enumerate(hits[:shown], start=1)
    ]  # fmt: skip


def _answer_text(body: dict[str, Any]) -> str:
    first = (body.get("choices") or [{}])[0]
    if "message" in first:
        return str((first.get("message") or {}).get("content") or "")
    return str(first.get("text") or "")


class AppRunner:
    """Answers questions for apps; built with what the process at hand can call."""

    def __init__(
        self,
        *,
        resolve_app: Callable[[str, str | None], tuple[int, AppSpec]],
        search: Callable[..., SearchResult],
        prompt: Callable[[str, str], Any],
        gateway: GatewayCall,
        groundedness: Callable[[str, list[str]], tuple[float, str]] | None,
        add_score: Callable[[str, str, float, str], None] | None,
        exporter: Batcher[SpanIn] | None,
        policy: Callable[[str], Any] | None = None,
    ) -> None:
        self.resolve_app = resolve_app
        self.search = search
        self.prompt = prompt
        self.gateway = gateway
        self.groundedness = groundedness
        self.add_score = add_score
        self.exporter = exporter
        self.policy = policy

    def _guard(self, spec: AppSpec, stage: str, text: str, context: list[str] | None = None) -> Any:
        """The app's policy on a question (pre_call) or an answer (post_call), as a guardrail
        span per check; None without a policy."""
        if not spec.policy or self.policy is None:
            return None
        assert self.exporter is not None
        from shipyard.guardrails.checks.base import ScanContext

        ctx = ScanContext(stage="input" if stage == "pre_call" else "output", context=context or [])
        outcome = self.policy(spec.policy).run(stage, text, ctx)
        for check in outcome.checks:
            entities = ",".join(sorted({f.type for f in check.findings})) or None
            with open_span(self.exporter, f"guardrail {check.check}", "guardrail") as span:
                span.set_attributes({
                    "shipyard.guardrail.name": check.check, "shipyard.guardrail.stage": stage,
                    "shipyard.guardrail.verdict": check.action,
                    "shipyard.guardrail.score": round(check.score, 3),
                    "shipyard.guardrail.entities": entities,
                    "shipyard.guardrail.latency_ms": round(check.ms, 3),
                })  # fmt: skip
        return outcome

    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        if self.exporter is None:
            raise InvalidInput("this process cannot record traces")
        started = time.perf_counter()
        version, spec = self.resolve_app(app, req.label)
        prompt = self.prompt(spec.prompt, spec.prompt_label)
        missing = [v for v in REQUIRED_VARIABLES if v not in prompt.variables]
        if missing:
            raise InvalidInput(
                f"prompt {prompt.ref} of app {app} must declare the variables "
                f"{', '.join(REQUIRED_VARIABLES)} (missing {', '.join(missing)})"
            )
        where = {k: context[k] for k in ("project", "tenant") if context.get(k) is not None}
        fields = {**where, "user_id": req.user, "session_id": req.session}
        with open_span(self.exporter, f"rag {app}", "chain", input=req.question, **fields) as root:
            if context.get("trace_id"):
                root.trace_id, root.parent_id = context["trace_id"], context.get("parent_id")
            guard = self._guard(spec, "pre_call", req.question)
            if guard is not None and guard.action in ("block", "retry"):
                root.set_output(guard.message)
                return RagAnswer(
                    app=app, app_version=version, answer=guard.message, citations=[],
                    groundedness=None, index=spec.index, index_version=0, prompt=prompt.ref,
                    trace_id=root.trace_id, blocked=True,
                    latency_ms=round((time.perf_counter() - started) * 1000, 1),
                )  # fmt: skip
            if guard is not None and guard.text != req.question:
                req = req.model_copy(update={"question": guard.text})
                root.set_input(guard.text)  # the trace keeps the redacted question
            search_req = SearchRequest(
                query=req.question, k=spec.k, mode=spec.mode, filters=spec.filters,
                label=spec.index_label,
            )  # fmt: skip
            found = self.search(spec.index, search_req, **where)
            answer, cites, reply, headers = self._generate(root, prompt, spec, req, found, where)
            checked = self._guard(spec, "post_call", answer, [c.text for c in cites])
            blocked = checked is not None and checked.action in ("block", "retry")
            if checked is not None:
                answer = checked.message if blocked else checked.text
            score, why = None, ""
            supported = [c.text for c in cites]
            if self.groundedness is not None and supported:
                score, why = self.groundedness(answer, supported)
            root.set_output(answer)
            root.fields["prompt_name"], root.fields["prompt_version"] = prompt.name, prompt.version
            root.set_attributes({
                "shipyard.rag.app": app, "shipyard.rag.app_version": version,
                "shipyard.index.name": spec.index, "shipyard.index.version": found.version,
                "shipyard.rag.cited": orjson.dumps([c.chunk_id for c in cites if c.cited]).decode(),
                "shipyard.rag.groundedness": score,
            })  # fmt: skip
            if score is not None and self.add_score is not None:
                self.add_score(root.trace_id, "groundedness", score, why)
            cost = headers.get("x-shipyard-cost-usd")
            return RagAnswer(
                app=app, app_version=version, answer=answer, citations=cites,
                groundedness=score, groundedness_explanation=why, index=spec.index,
                index_version=found.version, prompt=prompt.ref, model=reply.get("model"),
                trace_id=root.trace_id, latency_ms=round((time.perf_counter() - started) * 1000, 1),
                cost_usd=float(cost) if cost else None, best_score=found.best_score,
                blocked=blocked,
            )  # fmt: skip

    def _generate(
        self, root: Any, prompt: Any, spec: AppSpec, req: AskRequest, found: SearchResult,
        where: dict[str, Any],
    ) -> tuple[str, list[Citation], dict[str, Any], dict[str, str]]:  # fmt: skip
        """Render the prompt with the retrieved context and call the model."""
        context_text, shown = format_context(found.hits, spec.context_chars)
        values = {"question": req.question, "context": context_text}
        operation, body = prompt.request(values, model=spec.route, params=spec.params)
        call_context = {
            "traceparent": f"00-{root.trace_id}-{root.span_id}-01", "prompt": prompt.ref,
            "project": where.get("project"), "tenant": where.get("tenant"), "user": req.user,
            "session": req.session,
        }  # fmt: skip
        reply, headers = self.gateway(operation, body, call_context)
        answer = _answer_text(reply).strip()
        return answer, citations(found.hits, answer, shown), reply, headers


@functools.cache
def groundedness_scorer() -> Callable[[str, list[str]], tuple[float, str]] | None:
    """The eval suite's groundedness proxy (MiniLM + word overlap); None without MiniLM."""
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    from shipyard.evals.evaluators.groundedness import Groundedness
    from shipyard.evals.schemas import EvalCase, Output
    from shipyard.rag.embedders.local import shared_model

    class _Env:
        def embed(self, texts: list[str]) -> list[list[float]]:
            return shared_model().embed(texts).tolist()

    evaluator = Groundedness(Groundedness.Options(), _Env())  # type: ignore[arg-type]

    def score(answer: str, contexts: list[str]) -> tuple[float, str]:
        verdict = evaluator.evaluate(EvalCase(context=contexts), Output(text=answer))
        return round(verdict.score, 4), verdict.explanation

    return score


def build_runner(
    platform: Platform, search: Callable[..., SearchResult], gateway: GatewayCall,
    exporter: Batcher[SpanIn] | None, actor: Actor,
) -> AppRunner:  # fmt: skip
    """A runner over a platform's registry, prompts and trace store."""
    from shipyard.prompts.prompt import Prompt
    from shipyard.prompts.service import to_prompt
    from shipyard.registry.schemas import Kind
    from shipyard.tracing.schemas import ScoreIn

    def resolve_app(name: str, label: str | None) -> tuple[int, AppSpec]:
        found = platform.registry.fetch(name, Kind.app, alias=label or "production")
        return found.version, AppSpec.model_validate(found.payload)

    def prompt(name: str, label: str) -> Prompt:
        return Prompt(to_prompt(platform.registry.fetch(name, Kind.prompt, alias=label)))

    def policy(ref: str) -> Any:
        from shipyard.guardrails.policy import Policy, parse_spec

        name, _, label = ref.partition("@")
        found = platform.registry.fetch(name, Kind.policy, alias=label or "production")
        return Policy(parse_spec(found.payload or {}), found.name, found.version)

    def add_score(trace_id: str, name: str, value: float, comment: str) -> None:
        score = ScoreIn(trace_id=trace_id, name=name, value=value, source="rule",
                        comment=comment[:10_000])  # fmt: skip
        platform.tracing.add_score(actor, score)

    return AppRunner(
        resolve_app=resolve_app, search=search, prompt=prompt, gateway=gateway,
        groundedness=groundedness_scorer(), add_score=add_score, exporter=exporter,
        policy=policy,
    )  # fmt: skip
