"""A fake model provider over real HTTP (127.0.0.1): the OpenAI API and the Anthropic
Messages API, with behaviour chosen by the model name a request asks for:

    echo           answers "echo: <last user text>"
    flaky-N        HTTP 500 for the first N calls (per model name), then answers
    limited        HTTP 429 with Retry-After: 0, always
    hang           never answers (until the client gives up)
    garbage        HTTP 200 with a body that is not JSON
    reject         HTTP 400 with an OpenAI error body
    stall-stream   streams one chunk, then goes quiet
    judge-N        answers as an LLM judge would: {"score": N, "reason": ...}
    anything else  answers "Hello from <model>."

Every request body is kept in ``calls`` so tests can check what reached the upstream.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import orjson
from aiohttp import web


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, list):
                return "".join(p.get("text", "") for p in c if isinstance(p, dict))
            return str(c or "")
    return ""


class FakeLLM:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeLLM:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_post("/v1/completions", self._completions)
            app.router.add_post("/v1/embeddings", self._embeddings)
            app.router.add_post("/v1/messages", self._messages)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            # hanging handlers would hold their sockets open past the loop's end
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(10)

    # -- behaviour ----------------------------------------------------------------------------

    async def _common(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        body = await request.json()
        self.calls.append(body)
        self.headers.append(dict(request.headers))
        model = str(body.get("model", ""))
        self.counts[model] += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if model.startswith("flaky-") and self.counts[model] <= int(model.split("-", 1)[1]):
            return body, web.json_response(
                {"error": {"message": "upstream hiccup", "type": "server_error"}}, status=500
            )
        if model == "limited":
            return body, web.json_response(
                {"error": {"message": "slow down", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": "0"},
            )
        if model == "hang":
            await asyncio.sleep(3600)
        if model == "garbage":
            return body, web.Response(text="<html>oops</html>", content_type="text/html")
        if model == "reject":
            return body, web.json_response(
                {"error": {"message": "bad parameter", "type": "invalid_request_error",
                           "code": "bad_param"}},
                status=400,
            )  # fmt: skip
        return body, None

    def _answer(self, body: dict[str, Any]) -> str:
        model = str(body.get("model", ""))
        if model == "echo":
            messages = body.get("messages") or [{"role": "user", "content": body.get("prompt")}]
            return "echo: " + _last_user(messages)
        if model == "json-on-retry":  # prose first; JSON once it has been told what was wrong
            asked = [m for m in body.get("messages") or [] if m.get("role") == "user"]
            return '{"n": 2}' if len(asked) > 1 else "Sure! n is two."
        if model.startswith("judge-"):
            return f'Verdict: {{"score": {model.split("-", 1)[1]}, "reason": "fake judge"}}'
        return f"Hello from {model}."

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, early = await self._common(request)
        if early is not None:
            return early
        text = self._answer(body)
        n = int(body.get("n") or 1)
        usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
        if body.get("stream"):
            return await self._stream_chat(request, body, text, n, usage)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        finish = "stop"
        if body.get("tools"):
            fn = body["tools"][0]["function"]["name"]
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": fn, "arguments": '{"city": "Paris"}'}}]}  # fmt: skip
            finish = "tool_calls"
        return web.json_response({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": i, "message": message, "logprobs": None,
                         "finish_reason": finish} for i in range(n)],
            "usage": usage,
        })  # fmt: skip

    async def _stream_chat(self, request: web.Request, body: dict[str, Any], text: str, n: int,
                           usage: dict[str, Any]) -> web.StreamResponse:  # fmt: skip
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1,
                "model": body.get("model")}  # fmt: skip

        async def send(obj: Any) -> None:
            await resp.write(b"data: " + orjson.dumps(obj) + b"\n\n")

        for i in range(n):
            await send({**base, "choices": [{"index": i, "delta": {"role": "assistant",
                        "content": ""}, "finish_reason": None}]})  # fmt: skip
            for word in text.split(" "):
                piece = word if word == text.split(" ")[0] else " " + word
                await send({**base, "choices": [{"index": i, "delta": {"content": piece},
                            "finish_reason": None}]})  # fmt: skip
                if body.get("model") == "stall-stream":
                    await asyncio.sleep(3600)
            await send({**base, "choices": [{"index": i, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**base, "choices": [], "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body, early = await self._common(request)
        if early is not None:
            return early
        text = self._answer(body)
        return web.json_response({
            "id": "cmpl-fake", "object": "text_completion", "created": 1,
            "model": body.get("model"),
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11},
        })  # fmt: skip

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body, early = await self._common(request)
        if early is not None:
            return early
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 0.5, -1.0]}
                for i, t in enumerate(inputs)]  # fmt: skip
        return web.json_response({"object": "list", "data": data, "model": body.get("model"),
                                  "usage": {"prompt_tokens": 3 * len(inputs),
                                            "total_tokens": 3 * len(inputs)}})  # fmt: skip

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body, early = await self._common(request)
        if early is not None:
            return early
        text = "echo: " + _last_user(body.get("messages") or [])
        usage = {"input_tokens": 21, "output_tokens": 6, "cache_read_input_tokens": 4}
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        stop = "end_turn"
        if body.get("tools"):
            name = body["tools"][0]["name"]
            blocks.append({"type": "tool_use", "id": "toolu_1", "name": name,
                           "input": {"city": "Paris"}})  # fmt: skip
            stop = "tool_use"
        if not body.get("stream"):
            return web.json_response({
                "id": "msg_fake", "type": "message", "role": "assistant",
                "model": body.get("model"), "content": blocks, "stop_reason": stop,
                "usage": usage,
            })  # fmt: skip
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)

        async def ev(kind: str, data: dict[str, Any]) -> None:
            data = {"type": kind, **data}
            await resp.write(f"event: {kind}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n")

        await ev("message_start", {"message": {"id": "msg_fake", "model": body.get("model"),
                 "usage": {"input_tokens": 21, "output_tokens": 1}}})  # fmt: skip
        await ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        for word in text.split(" "):
            await ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta",
                     "text": word + " "}})  # fmt: skip
        await ev("content_block_stop", {"index": 0})
        await ev("ping", {})
        await ev("message_delta", {"delta": {"stop_reason": stop}, "usage": {"output_tokens": 6}})
        await ev("message_stop", {})
        await resp.write_eof()
        return resp
