"""Streamed answers: OpenAI chunks sent as server-sent events, with stream hooks on every
chunk, time to first token, and usage and cost recorded when the stream ends — however it
ends (done, stopped by a hook, failed upstream, or the client went away).

The cost of a stream is known only at its end, so it travels in the final usage chunk
(``usage.cost_usd``, when the client asked for ``stream_options.include_usage``) and in a
closing SSE comment line (``: shipyard {...}``), besides the trace and the ledger."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from shipyard.core.errors import ShipyardError, UpstreamError
from shipyard.gateway.hooks import Hook, HookContext, input_text
from shipyard.gateway.providers.base import Failure
from shipyard.gateway.schemas import Chunk, Generation, Usage, estimate_tokens

if TYPE_CHECKING:
    from shipyard.gateway.service import CallState, GatewayService

DONE = b"data: [DONE]\n\n"


def sse(body: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(body) + b"\n\n"


class StreamRun:
    def __init__(
        self,
        svc: GatewayService,
        st: CallState,
        hooks: list[Hook],
        hctx: HookContext | None,
        chunks: AsyncIterator[Chunk] | None,
        head: Chunk | None,
        cache_key: str | None,
        replay: Generation | None = None,
    ) -> None:
        self.svc = svc
        self.st = st
        self.hooks = [h for h in hooks if "on_stream" in h.stages()]
        self.hctx = hctx
        self.chunks = chunks
        self.head = head
        self.cache_key = cache_key
        self.replayed = replay
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str] = {}
        self.usage: Usage | None = None
        self.ttft_ms: float | None = None
        self.model: str | None = None
        self.ident: str = ""
        self.recorded = False

    @classmethod
    def replay(cls, svc: GatewayService, st: CallState, gen: Generation) -> StreamRun:
        return cls(svc, st, [], None, None, None, None, replay=gen)

    @property
    def headers(self) -> dict[str, str]:
        h = self.svc._headers(self.st, 0.0)
        del h["x-shipyard-cost-usd"]  # known at the end: see the module docstring
        return h

    def _wants_usage(self) -> bool:
        assert self.st.call is not None
        opts = self.st.call.raw.get("stream_options")
        return isinstance(opts, dict) and bool(opts.get("include_usage"))

    async def events(self) -> AsyncIterator[bytes]:
        error: ShipyardError | None = None
        stopped: str | None = None
        try:
            if self.replayed is not None:
                for body in _replay_chunks(self.replayed, self.st.operation == "chat"):
                    yield sse(body)
                self.usage = self.replayed.usage
                self.model = self.replayed.model
            else:
                async for data in self._relay():
                    if isinstance(data, str):
                        stopped = data
                        break
                    yield data
        except Failure as f:
            error = UpstreamError(f.message, code=f.code or "upstream_error")
        except ShipyardError as exc:
            error = exc
        except Exception as exc:  # a broken stream must still end cleanly and be recorded
            error = UpstreamError(f"the stream failed: {type(exc).__name__}: {exc}")
        except BaseException:  # the client went away (cancelled): record, then let it go
            self._record(None, "client_disconnected")
            await self._close()
            raise
        await self._close()
        cost = self._record(error, stopped)  # before the last events: the call is over
        if error is not None:
            yield sse({"error": {"message": error.message, "type": "upstream_error",
                                 "code": error.details.get("code"), "param": None}})  # fmt: skip
        if error is None and self._wants_usage():
            usage = self._usage()
            body = {"id": self.ident, "object": self._object(), "created": int(time.time()),
                    "model": self.model or self.st.model, "choices": [],
                    "usage": {**usage.openai(), "cost_usd": round(cost, 10)}}  # fmt: skip
            yield sse(body)
        tail = {"cost_usd": round(cost, 10), "trace_id": self.st.caller.trace_id}
        yield b": shipyard " + orjson.dumps(tail) + b"\n\n"
        yield DONE

    def _object(self) -> str:
        return "chat.completion.chunk" if self.st.operation == "chat" else "text_completion"

    async def _relay(self) -> AsyncIterator[bytes | str]:
        """Chunks as SSE bytes; a string means a hook stopped the stream (its reason)."""
        pending = self.head
        it = self.chunks
        while True:
            if pending is None:
                if it is None:
                    return
                try:
                    pending = await anext(it)
                except StopAsyncIteration:
                    return
            chunk, pending = pending, None
            body = chunk.body
            self.ident = self.ident or str(body.get("id", ""))
            self.model = self.model or body.get("model")
            if chunk.usage is not None:
                self.usage = chunk.usage
            choices = body.get("choices")
            if not choices:
                continue  # usage-only chunks: the gateway sends its own at the end
            for c in choices:
                i = int(c.get("index", 0)) if isinstance(c, dict) else 0
                if isinstance(c, dict) and c.get("finish_reason"):
                    self.finish[i] = str(c["finish_reason"])
            if chunk.text:
                if self.ttft_ms is None:
                    self.ttft_ms = self.st.elapsed_ms()
                i = int(choices[0].get("index", 0)) if isinstance(choices[0], dict) else 0
                self.texts.setdefault(i, []).append(chunk.text)
                reason = self._check()
                if reason is not None:
                    yield sse(body)
                    yield sse(self._stop_chunk())
                    yield reason
                    return
            yield sse(body)

    def _check(self) -> str | None:
        if not self.hooks:
            return None
        assert self.st.call is not None and self.hctx is not None
        text = self._text()
        for hook in self.hooks:
            start = time.time()
            verdict = hook.on_stream(self.st.call, text, self.hctx)
            if verdict.action in ("stop", "block"):
                self.st.hook_spans.append((hook.name, "on_stream", start, time.time(), verdict))
                return f"{hook.name}: {verdict.message}"
        return None

    def _stop_chunk(self) -> dict[str, Any]:
        chat = self.st.operation == "chat"
        choice: dict[str, Any] = {"index": 0, "delta": {}} if chat else {"index": 0, "text": ""}
        choice.update(logprobs=None, finish_reason="content_filter")
        self.finish[0] = "content_filter"
        return {"id": self.ident, "object": self._object(), "created": int(time.time()),
                "model": self.model or self.st.model, "choices": [choice]}  # fmt: skip

    def _text(self) -> str:
        return "\n".join("".join(parts) for _, parts in sorted(self.texts.items()))

    def _usage(self) -> Usage:
        if self.usage is not None:
            return self.usage
        assert self.st.call is not None
        self.usage = Usage(
            estimate_tokens(input_text(self.st.call)), estimate_tokens(self._text()),
            estimated=True,
        )  # fmt: skip
        return self.usage

    async def _close(self) -> None:
        closer = getattr(self.chunks, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):  # the connection is dropped either way
                await closer()

    def _record(self, error: ShipyardError | None, stopped: str | None) -> float:
        if self.recorded:
            return 0.0
        self.recorded = True
        st = self.st
        usage = self._usage()
        cost = 0.0 if self.replayed is not None else self.svc._cost(st, usage)
        text = self._text() if self.replayed is None else self.replayed.text
        finishes = [self.finish[i] for i in sorted(self.finish)]
        gen = Generation(
            self._full_body(text, finishes, usage), usage, text,
            str(self.model or st.model), finishes,
        )  # fmt: skip
        if (
            self.cache_key is not None and st.cache == "miss"
            and error is None and stopped is None and self.replayed is None
        ):  # fmt: skip
            self.svc._store(st, self.cache_key, gen.body, text, usage)
        self.svc._finish(st, gen, error, cost=cost, ttft_ms=self.ttft_ms, stopped=stopped)
        return cost

    def _full_body(self, text: str, finishes: list[str], usage: Usage) -> dict[str, Any]:
        """The whole answer as a non-streamed body (for the cache)."""
        chat = self.st.operation == "chat"
        choices = []
        for i in sorted(self.texts) or [0]:
            piece = "".join(self.texts.get(i, []))
            reason = self.finish.get(i, "stop")
            choice: dict[str, Any] = (
                {"index": i, "message": {"role": "assistant", "content": piece}}
                if chat else {"index": i, "text": piece}
            )  # fmt: skip
            choice.update(logprobs=None, finish_reason=reason)
            choices.append(choice)
        return {
            "id": self.ident, "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": self.model or self.st.model,
            "choices": choices, "usage": usage.openai(),
        }  # fmt: skip


def _replay_chunks(gen: Generation, chat: bool) -> list[dict[str, Any]]:
    """A cached answer as stream chunks: the role, each choice's whole text, the finish."""
    body = gen.body
    base = {"id": body.get("id"), "created": body.get("created"), "model": body.get("model"),
            "object": "chat.completion.chunk" if chat else "text_completion"}  # fmt: skip
    out: list[dict[str, Any]] = []
    for c in body.get("choices", []):
        i = c.get("index", 0)
        if chat:
            content = (c.get("message") or {}).get("content") or ""
            out.append({**base, "choices": [{"index": i, "delta": {"role": "assistant",
                        "content": ""}, "logprobs": None, "finish_reason": None}]})  # fmt: skip
            out.append({**base, "choices": [{"index": i, "delta": {"content": content},
                        "logprobs": None, "finish_reason": None}]})  # fmt: skip
            out.append({**base, "choices": [{"index": i, "delta": {}, "logprobs": None,
                        "finish_reason": c.get("finish_reason") or "stop"}]})  # fmt: skip
        else:
            finish = c.get("finish_reason") or "stop"
            out.append({**base, "choices": [{"index": i, "text": c.get("text") or "",
                        "logprobs": None, "finish_reason": finish}]})  # fmt: skip
    return out
