"""Map span attributes (OpenTelemetry GenAI conventions and OpenInference) onto the span model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shipyard.tracing.privacy import OPEN, Policy, is_content
from shipyard.tracing.records import KINDS, SpanRecord

OPENINFERENCE_KINDS = {
    "LLM": "llm",
    "EMBEDDING": "embedding",
    "RETRIEVER": "retrieval",
    "RERANKER": "reranker",
    "GUARDRAIL": "guardrail",
    "TOOL": "tool",
    "CHAIN": "chain",
    "AGENT": "agent",
    "EVALUATOR": "evaluator",
}
OPERATION_KINDS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
}

# first attribute present wins
MODEL = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "embedding.model_name")
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
CACHED_TOKENS = (
    "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
COST = ("shipyard.cost_usd", "gen_ai.usage.cost", "llm.cost.total")
TTFT = ("shipyard.ttft_ms",)
INPUT = ("input.value", "shipyard.input", "gen_ai.prompt")
OUTPUT = ("output.value", "shipyard.output", "gen_ai.completion")
USER = ("user.id", "shipyard.user", "enduser.id")
SESSION = ("session.id", "shipyard.session", "gen_ai.conversation.id")
PROMPT_NAME = ("shipyard.prompt.name", "llm.prompt_template.name")
PROMPT_VERSION = ("shipyard.prompt.version", "llm.prompt_template.version")


@dataclass(frozen=True, slots=True)
class Limits:
    """Size caps applied before storage."""

    io_chars: int = 32_000
    attribute_chars: int = 8_000


def _int(v: Any) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    if type(v) is int:
        return v
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError):
        return None


def _float(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _text(v: Any, cap: int) -> str | None:
    if v is None:
        return None
    s = v if isinstance(v, str) else orjson.dumps(v, default=str).decode()
    return s if len(s) <= cap else s[:cap] + "…[truncated]"


def _short(v: Any, cap: int = 200) -> str | None:
    if v is None:
        return None
    if type(v) is str and len(v) <= cap:
        return v
    return str(v)[:cap]


def span_kind(attrs: dict[str, Any]) -> str:
    explicit = attrs.get("shipyard.span.kind")
    if isinstance(explicit, str) and explicit.lower() in KINDS:
        return explicit.lower()
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str) and oi.upper() in OPENINFERENCE_KINDS:
        return OPENINFERENCE_KINDS[oi.upper()]
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str) and op in OPERATION_KINDS:
        return OPERATION_KINDS[op]
    return "chain"


def _tags(attrs: dict[str, Any]) -> list[str]:
    raw = attrs.get("tag.tags", attrs.get("shipyard.tags"))
    if raw is None:
        return []
    if isinstance(raw, str):
        return [t.strip() for t in raw.split(",") if t.strip()][:50]
    if isinstance(raw, list | tuple):
        return [str(t)[:100] for t in raw][:50]
    return []


def _error(status: str, message: str | None, events: list[dict[str, Any]]) -> str | None:
    for ev in events:
        if ev.get("name") == "exception":
            a = ev.get("attributes") or {}
            etype, emsg = a.get("exception.type"), a.get("exception.message")
            if etype or emsg:
                return f"{etype or 'Exception'}: {emsg or ''}".strip()[:4000]
    if status == "error":
        return (message or "error")[:4000]
    return None


_SINGLE = {
    "operation": ("gen_ai.operation.name",),
    "index_name": ("shipyard.index.name",),
    "index_version": ("shipyard.index.version",),
    "tenant": ("shipyard.tenant",),
    "feature": ("shipyard.feature",),
    "route": ("shipyard.route",),
}
# attribute key -> (field, priority): the first key of each tuple above wins
_FIELD_OF: dict[str, tuple[str, int]] = {}
for _field, _keys in (
    ("model", MODEL), ("provider", PROVIDER), ("input_tokens", INPUT_TOKENS),
    ("output_tokens", OUTPUT_TOKENS), ("cached_input_tokens", CACHED_TOKENS), ("cost_usd", COST),
    ("ttft_ms", TTFT), ("input", INPUT), ("output", OUTPUT), ("user_id", USER),
    ("session_id", SESSION), ("prompt_name", PROMPT_NAME), ("prompt_version", PROMPT_VERSION),
    *_SINGLE.items(),
):  # fmt: skip
    for _prio, _key in enumerate(_keys):
        _FIELD_OF[_key] = (_field, _prio)
_IO_KEYS = frozenset(INPUT + OUTPUT)


def _scan(attrs: dict[str, Any], cap: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pass over the attributes: (the first-class values found, the attributes kept)."""
    found: dict[str, Any] = {}
    prios: dict[str, int] = {}
    kept: dict[str, Any] = {}
    for k, v in attrs.items():
        spec = _FIELD_OF.get(k)
        if spec is not None and v is not None and v != "":
            field, prio = spec
            if field not in prios or prio < prios[field]:
                found[field], prios[field] = v, prio
        if k not in _IO_KEYS:
            kept[k] = v[:cap] if isinstance(v, str) and len(v) > cap else v
    return found, kept


def to_record(
    *,
    trace_id: str,
    span_id: str,
    parent_id: str | None,
    project: str,
    name: str,
    start_ns: int,
    end_ns: int,
    status: str,
    status_message: str | None,
    attrs: dict[str, Any],
    events: list[dict[str, Any]],
    limits: Limits,
    policy: Policy = OPEN,
) -> SpanRecord:
    """One span in the stored shape. Attributes stay whole (values capped) in ``attributes``."""
    found, kept = _scan(attrs, limits.attribute_chars)
    get = found.get
    inp = _text(get("input"), limits.io_chars)
    out = _text(get("output"), limits.io_chars)
    if not policy.store_io:
        inp = out = None
        kept = {k: v for k, v in kept.items() if not is_content(k)}
        events = [e for e in events if e.get("name") == "exception"]
    redact = policy.redact
    if redact is not None:
        inp = redact(inp) if inp is not None else None
        out = redact(out) if out is not None else None
        kept = {k: redact(v) if isinstance(v, str) else v for k, v in kept.items()}
        events = [_redact_event(e, redact) for e in events]
    user = _short(get("user_id"))
    if user is not None and policy.hash_user is not None:
        user = policy.hash_user(user)
        kept = {k: v for k, v in kept.items() if k not in USER}
    ttft = _float(get("ttft_ms"))
    if ttft is None and events:
        for ev in events:  # a "first token" event marks the time to first token
            if ev.get("name") in ("gen_ai.first_token", "first_token") and ev.get("time_ns"):
                ttft = (int(ev["time_ns"]) - start_ns) / 1_000_000
                break
    return SpanRecord(
        trace_id,
        span_id,
        parent_id,
        project,
        name[:500] or "span",
        span_kind(attrs),
        status,
        start_ns // 1_000_000,
        max(0.0, (end_ns - start_ns) / 1_000_000) if end_ns else 0.0,
        _short(get("operation"), 100),
        _short(get("provider"), 100),
        _short(get("model")),
        _short(get("prompt_name")),
        _int(get("prompt_version")),
        _short(get("index_name")),
        _int(get("index_version")),
        _int(get("input_tokens")),
        _int(get("output_tokens")),
        _int(get("cached_input_tokens")),
        _float(get("cost_usd")),
        ttft,
        _error(status, status_message, events) if status == "error" or events else None,
        inp,
        out,
        orjson.dumps(kept, default=str).decode() if kept else None,
        orjson.dumps(events, default=str).decode() if events else None,
        user,
        _short(get("session_id")),
        _short(get("tenant")),
        _short(get("feature")),
        _short(get("route")),
        _tags(attrs) if "tag.tags" in attrs or "shipyard.tags" in attrs else [],
    )


def project_of(resource: dict[str, Any], default: str = "default") -> str:
    for key in ("shipyard.project", "openinference.project.name", "service.name"):
        v = resource.get(key)
        if isinstance(v, str) and v and not v.startswith("unknown_service"):
            return v[:200]
    return default


def _redact_event(event: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    attrs = event.get("attributes") or {}
    return {
        **event,
        "attributes": {k: redact(v) if isinstance(v, str) else v for k, v in attrs.items()},
    }
