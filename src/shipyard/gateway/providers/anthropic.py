"""``anthropic``: the Anthropic Messages API, mapped to and from the OpenAI shapes.

Requests: system and developer messages become ``system``; tool calls and tool results
become ``tool_use`` and ``tool_result`` blocks; ``stop`` becomes ``stop_sequences``; the
temperature is capped at 1 (Anthropic's range). Answers and streams come back as OpenAI
chat completions and chunks, tool calls included; ``prompt_tokens`` counts cached input."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from shipyard.core.ids import new_id
from shipyard.gateway.providers.base import Call, Failure, Provider, ProviderOptions, register
from shipyard.gateway.providers.openai import status_failure, translated
from shipyard.gateway.schemas import ChatRequest, Chunk, Generation, Message, Usage

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


class AnthropicOptions(ProviderOptions):
    base_url: str | None = "https://api.anthropic.com"
    version: str = API_VERSION


def _parts(m: Message) -> list[dict[str, Any]]:
    if isinstance(m.content, str) or m.content is None:
        return [{"type": "text", "text": m.content or ""}] if m.content else []
    out: list[dict[str, Any]] = []
    for p in m.content:
        kind = p.get("type")
        if kind == "text":
            out.append({"type": "text", "text": str(p.get("text", ""))})
        elif kind == "image_url":
            url = (p.get("image_url") or {}).get("url", "")
            if url.startswith("data:") and ";base64," in url:
                media, data = url[5:].split(";base64,", 1)
                out.append(
                    {"type": "image", "source": {"type": "base64", "media_type": media,
                                                 "data": data}}
                )  # fmt: skip
            else:
                out.append({"type": "image", "source": {"type": "url", "url": url}})
        else:
            raise Failure(f"content part {kind!r} has no Anthropic equivalent", client_fault=True)
    return out


def _arguments(text: str | None) -> Any:
    try:
        return orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        raise Failure("tool call arguments must be a JSON object", client_fault=True) from None


def to_messages(req: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)  # consecutive turns of one role merge
        else:
            out.append({"role": role, "content": blocks})

    for m in req.messages:
        if m.role in ("system", "developer"):
            system.append(m.text())
        elif m.role in ("tool", "function"):
            add("user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or m.name or "",
                          "content": m.text()}])  # fmt: skip
        elif m.role == "assistant":
            blocks = _parts(m)
            for tc in m.tool_calls or []:
                fn = tc.get("function") or {}
                blocks.append({"type": "tool_use", "id": tc.get("id") or new_id(),
                               "name": fn.get("name", ""),
                               "input": _arguments(fn.get("arguments"))})  # fmt: skip
            add("assistant", blocks)
        else:
            add("user", _parts(m))
    return "\n\n".join(s for s in system if s), out


def _tools(req: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if req.tools:
        out["tools"] = [
            {
                "name": t.get("function", {}).get("name", ""),
                "description": t.get("function", {}).get("description", ""),
                "input_schema": t.get("function", {}).get("parameters")
                or {"type": "object", "properties": {}},
            }
            for t in req.tools
        ]
    choice = req.tool_choice
    if choice == "auto":
        out["tool_choice"] = {"type": "auto"}
    elif choice == "none":
        out["tool_choice"] = {"type": "none"}
    elif choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif isinstance(choice, dict):
        out["tool_choice"] = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    return out


def _usage(u: dict[str, Any]) -> Usage:
    cached = int(u.get("cache_read_input_tokens") or 0)
    created = int(u.get("cache_creation_input_tokens") or 0)
    return Usage(
        input_tokens=int(u.get("input_tokens") or 0) + cached + created,
        output_tokens=int(u.get("output_tokens") or 0),
        cached_input_tokens=cached,
    )


@register
class AnthropicProvider(Provider):
    kind = "anthropic"
    Options = AnthropicOptions
    supports_tools = True

    def _request(self, call: Call, model: str, stream: bool) -> bytes:
        if call.operation == "chat":
            req = call.chat
        else:
            prompts = call.completion.prompts()
            if len(prompts) != 1:
                raise Failure("send one prompt per request to this upstream", client_fault=True)
            req = ChatRequest(model=model, messages=[Message(role="user", content=prompts[0])])
        if call.request.n != 1:  # type: ignore[union-attr]
            raise Failure(f"upstream {self.name!r} (anthropic) answers n=1 only", client_fault=True)
        system, messages = to_messages(req)
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": call.max_output() or DEFAULT_MAX_TOKENS,
        }
        if system:
            body["system"] = system
        src = call.request
        if src.temperature is not None:  # type: ignore[union-attr]
            body["temperature"] = min(1.0, src.temperature)  # type: ignore[union-attr]
        if src.top_p is not None:  # type: ignore[union-attr]
            body["top_p"] = src.top_p  # type: ignore[union-attr]
        stops = src.stops()  # type: ignore[union-attr]
        if stops:
            body["stop_sequences"] = stops
        if src.user:
            body["metadata"] = {"user_id": src.user}
        if call.operation == "chat":
            body.update(_tools(req))
        if stream:
            body["stream"] = True
        return orjson.dumps(body)

    def _headers(self) -> dict[str, str]:
        opts = self.options
        assert isinstance(opts, AnthropicOptions)
        headers = {"content-type": "application/json", "anthropic-version": opts.version}
        headers.update(opts.headers)
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def _url(self) -> str:
        return (self.options.base_url or "").rstrip("/") + "/v1/messages"

    async def generate(self, call: Call, model: str) -> Generation:
        timeout = aiohttp.ClientTimeout(total=call.timeout_s)
        async with translated(self.name, call.timeout_s), self.ctx.http.session().post(
            self._url(), data=self._request(call, model, False), headers=self._headers(),
            timeout=timeout,
        ) as resp:  # fmt: skip
            payload = await resp.read()
            if resp.status != 200:
                raise status_failure(self.name, resp.status, payload, resp.headers)
        try:
            data = orjson.loads(payload)
            blocks = data["content"]
            usage = _usage(data.get("usage") or {})
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise Failure(
                f"upstream {self.name!r} answered with something that is not a Messages reply",
                retryable=True,
            ) from None
        return self._to_openai(call, data, blocks, usage, model)

    def _to_openai(
        self, call: Call, data: dict[str, Any], blocks: list[Any], usage: Usage, model: str
    ) -> Generation:
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        calls = [
            {"id": b.get("id"), "type": "function",
             "function": {"name": b.get("name"),
                          "arguments": orjson.dumps(b.get("input", {})).decode()}}
            for b in blocks if b.get("type") == "tool_use"
        ]  # fmt: skip
        finish = FINISH.get(str(data.get("stop_reason")), "stop")
        chat = call.operation == "chat"
        if chat:
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = calls
            choice: dict[str, Any] = {"index": 0, "message": message}
        else:
            choice = {"index": 0, "text": text}
        choice.update(logprobs=None, finish_reason=finish)
        answered = str(data.get("model") or model)
        body = {
            "id": ("chatcmpl-" if chat else "cmpl-") + str(data.get("id") or new_id()),
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": answered,
            "choices": [choice],
            "usage": usage.openai(),
        }
        return Generation(body, usage, text, answered, [finish])

    async def stream(self, call: Call, model: str) -> AsyncIterator[Chunk]:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=call.timeout_s, sock_read=call.timeout_s
        )
        async with translated(self.name, call.timeout_s, stream=True), self.ctx.http.session(
        ).post(
            self._url(), data=self._request(call, model, True), headers=self._headers(),
            timeout=timeout,
        ) as resp:  # fmt: skip
            if resp.status != 200:
                raise status_failure(self.name, resp.status, await resp.read(), resp.headers)
            async for chunk in _StreamMapper(self.name, call, model).run(resp):
                yield chunk


class _StreamMapper:
    """Anthropic stream events → OpenAI chunks."""

    def __init__(self, upstream: str, call: Call, model: str) -> None:
        self.upstream = upstream
        self.chat = call.operation == "chat"
        self.id = ("chatcmpl-" if self.chat else "cmpl-") + new_id()
        self.model = model
        self.created = int(time.time())
        self.usage = Usage()
        self.tools: dict[int, int] = {}  # content block index → tool call index

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, text: str = "") -> Chunk:
        if self.chat:
            choice: dict[str, Any] = {"index": 0, "delta": delta}
        else:
            choice = {"index": 0, "text": text}
        choice.update(logprobs=None, finish_reason=finish)
        body = {
            "id": self.id,
            "object": "chat.completion.chunk" if self.chat else "text_completion",
            "created": self.created, "model": self.model, "choices": [choice],
        }  # fmt: skip
        return Chunk(body, text, None, finish)

    async def run(self, resp: aiohttp.ClientResponse) -> AsyncIterator[Chunk]:
        async for line in resp.content:
            if not line.startswith(b"data:"):
                continue
            try:
                ev = orjson.loads(line[5:].strip())
            except orjson.JSONDecodeError:
                raise Failure(
                    f"upstream {self.upstream!r} streamed something that is not JSON",
                    retryable=True,
                ) from None
            for chunk in self._map(ev):
                yield chunk
            if ev.get("type") == "message_stop":
                return

    def _map(self, ev: dict[str, Any]) -> list[Chunk]:
        kind = ev.get("type")
        if kind == "message_start":
            msg = ev.get("message") or {}
            self.model = str(msg.get("model") or self.model)
            u = _usage(msg.get("usage") or {})
            self.usage.input_tokens, self.usage.cached_input_tokens = (
                u.input_tokens, u.cached_input_tokens
            )  # fmt: skip
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = ev.get("content_block") or {}
            if block.get("type") == "tool_use" and self.chat:
                i = self.tools[int(ev.get("index", 0))] = len(self.tools)
                return [self._chunk({"tool_calls": [
                    {"index": i, "id": block.get("id"), "type": "function",
                     "function": {"name": block.get("name"), "arguments": ""}}]})]  # fmt: skip
            return []
        if kind == "content_block_delta":
            delta = ev.get("delta") or {}
            if delta.get("type") == "text_delta":
                text = str(delta.get("text", ""))
                return [self._chunk({"content": text}, text=text)]
            if delta.get("type") == "input_json_delta" and self.chat:
                i = self.tools.get(int(ev.get("index", 0)), 0)
                args = {"arguments": delta.get("partial_json", "")}
                return [self._chunk({"tool_calls": [{"index": i, "function": args}]})]
            return []
        if kind == "message_delta":
            self.usage.output_tokens = int((ev.get("usage") or {}).get("output_tokens") or 0)
            reason = FINISH.get(str((ev.get("delta") or {}).get("stop_reason")), "stop")
            last = self._chunk({}, finish=reason)
            last.usage = self.usage
            return [last]
        if kind == "error":
            err = ev.get("error") or {}
            raise Failure(
                f"upstream {self.upstream!r} failed mid-stream: {err.get('message', err)}",
                retryable=err.get("type") == "overloaded_error",
            )
        return []
