"""The gateway service: one call from request to answer.

    parse → resolve the route → limits and budgets → pre-call hooks → cache
          → targets in order (retries with backoff, fallbacks, cool-downs)
          → post-call hooks (or stream hooks per chunk) → cost → ledger, spans → answer

Configuration (routes, upstreams, limits) is read from a snapshot kept in memory and
re-read every ``gateway_refresh_s`` seconds, so a route change or rollback reaches every
running server within seconds without a restart."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import (
    InvalidInput,
    NotFound,
    RateLimited,
    ShipyardError,
    UpstreamError,
    UpstreamTimeout,
)
from shipyard.core.ids import new_id
from shipyard.core.settings import Settings
from shipyard.gateway.cache import ResponseCache, request_key
from shipyard.gateway.config import GatewayConfig, LimitSpec, Secrets, Snapshot
from shipyard.gateway.hooks import Hook, HookContext, Verdict, build_hook
from shipyard.gateway.http import HttpPool
from shipyard.gateway.ledger import UsageLedger
from shipyard.gateway.limits import Budgets, Limiter, Subject
from shipyard.gateway.pricing import PriceTable
from shipyard.gateway.providers.base import (
    Call,
    Failure,
    Provider,
    ProviderContext,
    parse_options,
    provider_class,
)
from shipyard.gateway.recording import Attempt, CallState, Recorder, Resolved
from shipyard.gateway.router import Health, backoff_s, order
from shipyard.gateway.routes import RouteConfig, Target
from shipyard.gateway.schemas import (
    ChatRequest,
    CompletionRequest,
    EmbeddingRequest,
    Embeddings,
    Generation,
    Message,
    Operation,
    Usage,
    estimate_tokens,
    parse,
)
from shipyard.gateway.semantic import SemanticCache
from shipyard.gateway.streaming import StreamRun
from shipyard.gateway.telemetry import Caller
from shipyard.registry.follow import AliasFollower
from shipyard.registry.schemas import DEFAULT_ALIAS, Kind
from shipyard.registry.service import RegistryService
from shipyard.store.db import Database
from shipyard.tracing.service import TracingService

log = logging.getLogger("shipyard.gateway")

SPEND_SYNC_S = 15.0
REQUEST_TYPES: dict[str, type[ChatRequest | CompletionRequest | EmbeddingRequest]] = {
    "chat": ChatRequest,
    "text_completion": CompletionRequest,
    "embeddings": EmbeddingRequest,
}


@dataclass(slots=True)
class Answer:
    """A whole answer and the headers that go with it."""

    body: dict[str, Any]
    headers: dict[str, str]


class GatewayService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: RegistryService,
        tracing: TracingService,
    ) -> None:
        self.settings = settings
        gs = settings.gateway
        self.config = GatewayConfig(db, registry, Secrets(settings.secret_key()))
        self.prices = PriceTable(gs.gateway_prices_file)
        self.http = HttpPool(gs.gateway_max_connections, trust_env=gs.gateway_use_env_proxy)
        self.ctx = ProviderContext(self.http, settings)
        self.ledger = UsageLedger(db)
        self.limiter = Limiter()
        self.budgets = Budgets(self.ledger.spend, self.ledger.flush)
        self.cache = ResponseCache(gs.gateway_cache_max_entries)
        self.semantic = SemanticCache(self.ctx, gs.gateway_cache_max_entries)
        self.health = Health()
        self.recorder = Recorder(
            settings, tracing, self.ledger, self.limiter, self.budgets, self._subjects
        )
        self.rng = random.Random()
        self._snap: Snapshot | None = None
        self._snap_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._spend_synced = 0.0
        self._providers: dict[str, tuple[tuple[str, int], Provider]] = {}
        self._hooks: dict[tuple[str, int | None, int | None], list[Hook]] = {}
        self._policies = AliasFollower(registry, settings.ml.ml_alias_ttl_s)

    # -- configuration snapshot ---------------------------------------------------------------

    def refresh(self) -> Snapshot:
        """Re-read routes, upstreams and limits (and spend, every SPEND_SYNC_S)."""
        with self._refresh_lock:  # one at a time: a slow stale read never lands last
            snap = self.config.snapshot()
            with self._snap_lock:
                self._snap = snap
            self._hooks = {k: v for k, v in self._hooks.items() if k[0] in snap.routes}
        now = time.monotonic()
        if now - self._spend_synced >= SPEND_SYNC_S:
            self._spend_synced = now
            budgeted = [
                k for k, spec in snap.limits.items()
                if spec.daily_usd is not None or spec.monthly_usd is not None
            ]  # fmt: skip
            self.budgets.sync(budgeted)
        return snap

    def snapshot(self) -> Snapshot:
        snap = self._snap
        if snap is None:
            snap = self.refresh()
        return snap

    async def refresh_loop(self) -> None:
        interval = self.settings.gateway.gateway_refresh_s
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                log.exception("gateway configuration refresh failed; keeping the last one")

    def changed(self) -> None:
        """Configuration changed through this process: serve the change right away."""
        self._spend_synced = 0.0
        self.refresh()

    async def close(self) -> None:
        await asyncio.to_thread(self.recorder.flush)
        await self.http.close()
        for _, provider in self._providers.values():
            await provider.close()
        for res in self.ctx.resources.values():
            close = getattr(res, "close", None)
            if callable(close):
                await asyncio.to_thread(close)
        self.ledger.close()

    # -- models and routes --------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        """What ``GET /v1/models`` lists: every deployed route, then the built-in models."""
        snap = self.snapshot()
        out = [
            {"id": name, "object": "model", "created": 0, "owned_by": "shipyard",
             "route_version": version, "operation": cfg.operation}
            for name, (version, cfg) in sorted(snap.routes.items())
        ]  # fmt: skip
        out.append({"id": "local/gemma-3-270m", "object": "model", "created": 0,
                    "owned_by": "shipyard-local", "operation": "chat"})  # fmt: skip
        out.append({"id": "local-embed/all-minilm-l6-v2", "object": "model", "created": 0,
                    "owned_by": "shipyard-local", "operation": "embeddings"})  # fmt: skip
        return out

    def resolve(self, model: str, operation: Operation) -> Resolved:
        snap = self.snapshot()
        found = snap.routes.get(model)
        if found is not None:
            version, cfg = found
            resolved = Resolved(model, version, cfg)
        elif "/" in model and model.split("/", 1)[0] in snap.upstreams:
            upstream, target_model = model.split("/", 1)
            kind = snap.upstreams[upstream].provider
            ops = provider_class(kind).operations
            cfg = RouteConfig(
                operation="embeddings" if ops == {"embeddings"} else "chat",
                targets=[Target(upstream=upstream, model=target_model)],
                retries=0,
            )
            resolved = Resolved(model, None, cfg)
        else:
            raise NotFound(
                f"The model {model!r} does not exist: no route has that name "
                "(GET /v1/models lists them)",
                code="model_not_found",
                param="model",
            )
        wanted = "embeddings" if operation == "embeddings" else "chat"
        if resolved.config.operation != wanted:
            raise InvalidInput(
                f"{model!r} is a {resolved.config.operation} route; it does not serve {operation}",
                code="wrong_operation",
                param="model",
            )
        return resolved

    def provider(self, name: str) -> Provider:
        snap = self.snapshot()
        conf = snap.upstreams.get(name)
        if conf is None:
            raise Failure(f"no upstream named {name!r}")
        stamp = (conf.provider, conf.version)
        cached = self._providers.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        cls = provider_class(conf.provider)
        instance = cls(name, parse_options(conf.provider, conf.options), conf.api_key, self.ctx)
        self._providers[name] = (stamp, instance)
        return instance

    def hooks(self, route: Resolved) -> list[Hook]:
        policy = self._policy_version(route.config.policy)
        key = (route.name, route.version, policy.version if policy else None)
        found = self._hooks.get(key)
        if found is None:
            found = []
            limits = route.config.limits
            if limits.max_input_tokens is not None or limits.max_output_tokens is not None:
                found.append(build_hook("token_limits", limits.model_dump()))
            found.extend(build_hook(h.name, h.options) for h in route.config.guardrails)
            if policy is not None:
                from shipyard.guardrails.hook import PolicyHook
                from shipyard.guardrails.policy import Policy, parse_spec

                spec = parse_spec(policy.payload or {})
                found.append(PolicyHook(Policy(spec, policy.name, policy.version)))
            self._hooks[key] = found
        return found

    def _policy_version(self, ref: str | None) -> Any:
        """The version of a route's policy behind its label (``production`` unless named)."""
        if not ref:
            return None
        name, _, alias = ref.partition("@")
        return self._policies.fetch(name, Kind.policy, alias or DEFAULT_ALIAS)

    # -- limits -------------------------------------------------------------------------------

    def _limits(self, caller: Caller) -> list[tuple[Subject, LimitSpec]]:
        snap = self.snapshot()
        out: list[tuple[Subject, LimitSpec]] = []
        if caller.key_id is not None:
            spec = snap.limits.get(("key", caller.key_id))
            if spec is not None:
                out.append((("key", caller.key_id), spec))
        if caller.tenant is not None:
            spec = snap.limits.get(("tenant", caller.tenant))
            if spec is not None:
                out.append((("tenant", caller.tenant), spec))
        return out

    def _subjects(self, caller: Caller) -> list[Subject]:
        out: list[Subject] = []
        if caller.key_id is not None:
            out.append(("key", caller.key_id))
        if caller.tenant is not None:
            out.append(("tenant", caller.tenant))
        return out

    # -- the call -----------------------------------------------------------------------------

    async def generate(
        self, caller: Caller, operation: Operation, body: bytes
    ) -> Answer | StreamRun:
        """A chat or text completion: an :class:`Answer`, or a :class:`StreamRun` to send."""
        st = CallState(caller, operation, time.time(), time.perf_counter())
        try:
            return await self._generate(st, body)
        except ShipyardError as exc:
            self._finish(st, None, exc)
            raise

    async def _generate(self, st: CallState, body: bytes) -> Answer | StreamRun:
        req, raw = parse(REQUEST_TYPES[st.operation], body)
        assert isinstance(req, ChatRequest | CompletionRequest)
        st.caller.attribute(req.user, req.metadata)
        st.model = req.model
        route = st.route = self.resolve(req.model, st.operation)
        limits = self._limits(st.caller)
        self.limiter.admit(limits)
        self.budgets.check(limits)
        timeout = route.config.timeout_s or self.settings.gateway.gateway_timeout_s
        call = st.call = Call(st.operation, req, raw, timeout)
        hooks = self.hooks(route)
        hctx = HookContext(route.name, st.caller.tenant, self._counter(route))
        blocked = await self._pre_call(st, hooks, hctx)
        if blocked is not None:
            return blocked
        cache_key = self._cache_key(st, req, raw)
        if cache_key is not None:
            hit = await self._cached(st, cache_key, req.stream)
            if hit is not None:
                return hit
        if req.stream:
            return await self._start_stream(st, hooks, hctx, cache_key)
        gen = await self._attempts(st, lambda p, m: p.generate(call, m))
        assert isinstance(gen, Generation)
        checked = await self._post_call(st, call, gen, hooks, hctx)
        if isinstance(checked, Answer):
            return checked
        gen = checked
        paid = gen.usage + st.spent  # with the answers a guardrail sent back
        cost = self._cost(st, paid)
        if cache_key is not None and st.cache == "miss":
            self._store(st, cache_key, gen.body, gen.text, gen.usage)
        self._finish(st, gen, None, cost=cost, usage=paid)
        return Answer(gen.body, self._headers(st, cost))

    async def embed(self, caller: Caller, body: bytes) -> Answer:
        st = CallState(caller, "embeddings", time.time(), time.perf_counter())
        try:
            req, raw = parse(EmbeddingRequest, body)
            assert isinstance(req, EmbeddingRequest)
            caller.attribute(req.user, req.metadata)
            st.model = req.model
            route = st.route = self.resolve(req.model, "embeddings")
            texts = req.texts()
            if not texts or any(not t for t in texts):
                raise InvalidInput("input must be non-empty text", param="input")
            limits = self._limits(caller)
            self.limiter.admit(limits)
            self.budgets.check(limits)
            timeout = route.config.timeout_s or self.settings.gateway.gateway_timeout_s
            call = st.call = Call("embeddings", req, raw, timeout)
            hctx = HookContext(route.name, caller.tenant, self._counter(route))
            blocked = await self._pre_call(st, self.hooks(route), hctx)
            if blocked is not None:
                raise InvalidInput(blocked.body["choices"][0]["message"]["content"])
            emb = await self._attempts(st, lambda p, m: p.embed(call, m))
            assert isinstance(emb, Embeddings)
        except ShipyardError as exc:
            self._finish(st, None, exc)
            raise
        cost = self._cost(st, emb.usage)
        body_out = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": _encode(v, req.encoding_format)}
                for i, v in enumerate(emb.vectors)
            ],
            "model": emb.model,
            "usage": {"prompt_tokens": emb.usage.input_tokens,
                      "total_tokens": emb.usage.input_tokens},
        }  # fmt: skip
        self._finish(st, None, None, usage=emb.usage, cost=cost, model=emb.model)
        return Answer(body_out, self._headers(st, cost))

    # -- pieces of a call ---------------------------------------------------------------------

    def _counter(self, route: Resolved) -> Any:
        first = route.config.targets[0]
        snap = self.snapshot()
        conf = snap.upstreams.get(first.upstream)
        if conf is not None and conf.provider == "local":
            engine = self.ctx.resources.get(f"llama:{first.model}")
            if engine is not None and engine.loaded:  # the model's own tokenizer, once loaded
                return engine.count_tokens
        return estimate_tokens

    async def _pre_call(self, st: CallState, hooks: list[Hook], hctx: HookContext) -> Answer | None:
        assert st.call is not None
        for hook in hooks:
            if "pre_call" not in hook.stages():
                continue
            verdict = await self._run_hook(st, hook, "pre_call", hook.pre_call(st.call, hctx))
            if verdict.action == "block":
                if verdict.status is not None:
                    raise _blocked_error(verdict)
                return self._blocked_answer(st, verdict)
        return None

    async def _post_call(self, st: CallState, call: Call, gen: Generation, hooks: list[Hook],
                         hctx: HookContext) -> Generation | Answer:  # fmt: skip
        """Post-call hooks; a ``retry`` verdict asks the model again with what was wrong."""
        for hook in hooks:
            if "post_call" not in hook.stages():
                continue
            tries = 0
            while True:
                verdict = await self._run_hook(
                    st, hook, "post_call", hook.post_call(call, gen, hctx)
                )
                allowed = int(verdict.detail.get("max_retries", 1)) if verdict.detail else 1
                if verdict.action == "retry" and tries < allowed and st.operation == "chat":
                    tries += 1
                    st.spent = st.spent + gen.usage
                    _ask_again(call, gen.text, verdict.message)
                    gen = await self._attempts(st, lambda p, m: p.generate(call, m))  # type: ignore[assignment]
                    continue
                if verdict.action in ("block", "retry"):
                    st.spent = st.spent + gen.usage  # the refused answer was generated
                    return self._blocked_answer(st, verdict)
                break
        return gen

    async def _run_hook(self, st: CallState, hook: Hook, stage: str, aw: Any) -> Verdict:
        start = time.time()
        verdict: Verdict = await aw
        st.hook_spans.append((hook.name, stage, start, time.time(), verdict))
        return verdict

    def _blocked_answer(self, st: CallState, verdict: Verdict) -> Answer:
        """A refusal in the shape of a normal answer (finish_reason ``content_filter``)."""
        chat = st.operation == "chat"
        message = verdict.message or "This request was blocked by a guardrail."
        choice: dict[str, Any] = (
            {"index": 0, "message": {"role": "assistant", "content": message}}
            if chat
            else {"index": 0, "text": message}
        )
        choice.update(logprobs=None, finish_reason="content_filter")
        body = {
            "id": ("chatcmpl-" if chat else "cmpl-") + new_id(),
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": st.model,
            "choices": [choice],
            "usage": Usage().openai(),
        }
        gen = Generation(body, Usage(), message, st.model, ["content_filter"])
        cost = self._cost(st, st.spent) if st.spent.input_tokens or st.spent.output_tokens else 0.0
        self._finish(st, gen, None, cost=cost, usage=st.spent)
        return Answer(body, self._headers(st, cost))

    def _cache_key(self, st: CallState, req: ChatRequest | CompletionRequest,
                   raw: dict[str, Any]) -> str | None:  # fmt: skip
        assert st.route is not None
        spec = st.route.config.cache
        if not (spec.exact or spec.semantic):
            return None
        # temperature defaults to 1 (OpenAI's default): without a 0, answers vary
        temperature = 1.0 if req.temperature is None else req.temperature
        if temperature > 0 and not spec.nondeterministic:
            st.cache = "skip"
            return None
        st.cache = "miss"
        return request_key((st.route.name, st.caller.tenant), raw)

    async def _cached(self, st: CallState, key: str, stream: bool) -> Answer | StreamRun | None:
        assert st.route is not None and st.call is not None
        spec = st.route.config.cache
        hit = self.cache.get(key) if spec.exact else None
        kind = "hit"
        if hit is None and spec.semantic:
            hit = await self.semantic.lookup(st.route.name, st.caller.tenant, st.call, spec)
            kind = "semantic"
        if hit is None:
            return None
        st.cache = kind
        body = dict(hit.body)
        body["id"] = ("chatcmpl-" if st.operation == "chat" else "cmpl-") + new_id()
        body["created"] = int(time.time())
        usage = Usage(hit.input_tokens, hit.output_tokens)
        gen = Generation(body, usage, hit.text, str(body.get("model", st.model)), [])
        if stream:
            return StreamRun.replay(self, st, gen)
        self._finish(st, gen, None, cost=0.0)
        return Answer(body, self._headers(st, 0.0))

    def _store(self, st: CallState, key: str, body: dict[str, Any], text: str,
               usage: Usage) -> None:  # fmt: skip
        assert st.route is not None and st.call is not None
        spec = st.route.config.cache
        cached = self.cache.put(key, body, text, (usage.input_tokens, usage.output_tokens),
                                spec.ttl_s)  # fmt: skip
        if spec.semantic:
            self.semantic.remember(st.route.name, st.caller.tenant, st.call, cached)

    async def _attempts(self, st: CallState, run: Any) -> Generation | Embeddings:
        """Try the route's targets in order; retries with backoff on retryable failures."""
        assert st.route is not None
        route = st.route.config
        last: Failure | None = None
        for target in order(route, self.health, self.prices, self.rng):
            try:
                provider = self.provider(target.upstream)
                assert st.call is not None
                provider.check(st.call)
            except Failure as f:
                st.attempts.append(Attempt(target.key, f.message, 0.0))
                last = f
                continue
            assert st.call is not None
            st.call.timeout_s = (
                target.timeout_s or route.timeout_s or self.settings.gateway.gateway_timeout_s
            )
            for attempt in range(route.retries + 1):
                t = time.perf_counter()
                try:
                    result = await run(provider, target.model)
                except Failure as f:
                    ms = (time.perf_counter() - t) * 1000
                    st.attempts.append(Attempt(target.key, f.message, ms))
                    last = f
                    if f.client_fault:
                        raise _client_fault(f) from None
                    self.health.failed(target.key, route)
                    if not f.retryable or attempt == route.retries:
                        break
                    await asyncio.sleep(backoff_s(route, attempt, f, self.rng))
                    continue
                ms = (time.perf_counter() - t) * 1000
                self.health.succeeded(target.key, ms)
                st.target, st.provider_kind = target, provider.kind
                st.attempts.append(Attempt(target.key, "", ms))
                return result
        raise _exhausted(st, last)

    def _cost(self, st: CallState, usage: Usage) -> float:
        target = st.target
        if target is None:
            return 0.0
        price = target.price or self.prices.lookup(target.model)
        return price.cost(usage) if price is not None else 0.0

    def _headers(self, st: CallState, cost: float) -> dict[str, str]:
        headers = {
            "x-shipyard-trace-id": st.caller.trace_id,
            "x-shipyard-cost-usd": f"{cost:.8f}",
            "x-shipyard-cache": st.cache,
        }
        if st.route is not None:
            headers["x-shipyard-route"] = st.route.name
            if st.route.version is not None:
                headers["x-shipyard-route-version"] = str(st.route.version)
        if st.target is not None:
            headers["x-shipyard-target"] = st.target.key
        if len(st.attempts) > 1:
            headers["x-shipyard-attempts"] = str(len(st.attempts))
        return headers

    async def _start_stream(
        self, st: CallState, hooks: list[Hook], hctx: HookContext, cache_key: str | None
    ) -> StreamRun:
        assert st.call is not None
        call = st.call

        async def first(provider: Provider, model: str) -> StreamRun:
            chunks = provider.stream(call, model)
            it = aiter(chunks)
            try:
                head = await asyncio.wait_for(anext(it), call.timeout_s)
            except StopAsyncIteration:
                head = None
            except TimeoutError:
                await chunks.aclose()  # type: ignore[attr-defined]
                raise Failure(
                    f"upstream {provider.name!r} sent nothing within {call.timeout_s:g} s",
                    retryable=True,
                    timeout=True,
                ) from None
            return StreamRun(self, st, hooks, hctx, it, head, cache_key)

        run = await self._attempts(st, first)
        assert isinstance(run, StreamRun)
        return run

    # -- recording ----------------------------------------------------------------------------

    def _finish(
        self,
        st: CallState,
        gen: Generation | None,
        error: ShipyardError | None,
        *,
        cost: float = 0.0,
        usage: Usage | None = None,
        model: str | None = None,
        ttft_ms: float | None = None,
        stopped: str | None = None,
    ) -> None:
        """Write the call's spans and its ledger row (never raises)."""
        try:
            self.recorder.record(st, gen, error, cost, usage, model, ttft_ms, stopped)
        except Exception:
            log.exception("could not record a gateway call")


def _encode(vector: list[float], fmt: str) -> Any:
    if fmt == "base64":
        import base64
        import struct

        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def _blocked_error(verdict: Verdict) -> ShipyardError:
    cls = InvalidInput if (verdict.status or 400) < 500 else UpstreamError
    exc = cls(verdict.message or "blocked by a guardrail", code=verdict.code or "guardrail")
    return exc


def _client_fault(f: Failure) -> ShipyardError:
    return InvalidInput(f.message, code=f.code or "upstream_rejected")


def _exhausted(st: CallState, last: Failure | None) -> ShipyardError:
    tried = "; ".join(f"{a.target}: {a.error}" for a in st.attempts) or "no target was available"
    n = len(st.attempts)
    message = f"every target failed ({n} attempt{'s' if n != 1 else ''}): {tried}"
    if last is not None and last.timeout:
        return UpstreamTimeout(message, code="upstream_timeout")
    if last is not None and last.status == 429:
        return RateLimited(
            message, code="upstream_rate_limited", retry_after_s=last.retry_after_s or 1
        )
    return UpstreamError(message, code="upstream_error")


def _ask_again(call: Call, answer: str, problem: str) -> None:
    """The conversation plus the rejected answer and what was wrong with it."""
    req = call.chat
    feedback = (f"Your previous answer was rejected: {problem}. Answer again, correcting it, "
                "and reply with the answer only.")  # fmt: skip
    messages = [*req.messages, Message(role="assistant", content=answer),
                Message(role="user", content=feedback)]  # fmt: skip
    call.request = req.model_copy(update={"messages": messages})
    call.raw["messages"] = [m.model_dump(exclude_none=True) for m in messages]
