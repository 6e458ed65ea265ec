"""``local``: a GGUF model run in-process by llama.cpp — by default the packaged Gemma 3 270M.

Gemma 3 270M is a base model with no chat template, so a conversation is given to it as a
plain transcript ("User: ... / Assistant:") that stops when the model starts the next turn.
Token counts come from the model's own tokenizer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from shipyard.core.ids import new_id
from shipyard.gateway.providers.base import Call, Failure, Provider, ProviderOptions, register
from shipyard.gateway.schemas import ChatRequest, Chunk, Generation, Usage
from shipyard.localai.llama import PACKAGED, LlamaEngine, QueueFull, packaged_model_path

TURN_STOPS = ["\nUser:", "\nAssistant:", "\nSystem:"]
DEFAULT_MAX_TOKENS = 256


class LocalOptions(ProviderOptions):
    # Extra model names → GGUF paths; "gemma-3-270m" is always the packaged model.
    models: dict[str, str] = {}


def chat_prompt(req: ChatRequest) -> str:
    """A conversation as the plain transcript a base model continues."""
    parts: list[str] = []
    for m in req.messages:
        text = m.text().strip()
        if m.role in ("system", "developer"):
            parts.append(text + "\n")
        elif m.role == "user":
            parts.append(f"User: {text}")
        elif m.role == "assistant":
            parts.append(f"Assistant: {text}")
        else:
            parts.append(f"Tool result: {text}")
    parts.append("Assistant:")
    return "\n".join(parts)


@register
class LocalProvider(Provider):
    kind = "local"
    Options = LocalOptions
    needs_api_key = False

    def engine(self, model: str) -> LlamaEngine:
        key = f"llama:{model}"
        engine = self.ctx.resources.get(key)
        if engine is None:
            s = self.ctx.settings.gateway
            opts = self.options
            assert isinstance(opts, LocalOptions)
            if model in opts.models:
                path = opts.models[model]
            elif model == PACKAGED:
                path = s.gateway_local_model or packaged_model_path()
            else:
                raise Failure(
                    f"the local upstream has no model {model!r}; it serves "
                    f"{', '.join(sorted({PACKAGED, *opts.models}))}",
                    code="model_not_found",
                )
            engine = LlamaEngine(
                path,
                n_ctx=s.gateway_local_context,
                threads=s.gateway_local_threads,
                max_queue=s.gateway_local_max_queue,
            )
            self.ctx.resources[key] = engine
        return engine

    def _prompts(self, call: Call) -> tuple[list[str], list[str]]:
        if call.operation == "chat":
            req = call.chat
            if any(m.has_non_text() for m in req.messages):
                raise Failure(
                    "the local model reads text only; send text content parts",
                    client_fault=True,
                    code="unsupported_content",
                )
            return [chat_prompt(req)], TURN_STOPS
        return call.completion.prompts(), []

    def _params(self, call: Call, engine: LlamaEngine, prompt: str, i: int) -> dict[str, Any]:
        req = call.request
        assert not isinstance(req, ChatRequest) or call.operation == "chat"
        used = engine.count_tokens(prompt)
        room = engine.n_ctx - used
        if room <= 0:
            raise Failure(
                f"the prompt has {used} tokens; the local model's context holds {engine.n_ctx}",
                client_fault=True,
                code="context_length_exceeded",
            )
        wanted = call.max_output() or DEFAULT_MAX_TOKENS
        params: dict[str, Any] = {
            "max_tokens": min(wanted, room),
            "temperature": 1.0 if req.temperature is None else req.temperature,  # type: ignore[union-attr]
            "top_p": 1.0 if req.top_p is None else req.top_p,  # type: ignore[union-attr]
            "stop": req.stops() + self._prompts(call)[1],  # type: ignore[union-attr]
        }
        if req.seed is not None:  # type: ignore[union-attr]
            params["seed"] = req.seed + i  # type: ignore[union-attr]
        for name in ("presence_penalty", "frequency_penalty"):
            if isinstance(call.raw.get(name), int | float):
                params[name] = float(call.raw[name])
        return params

    async def generate(self, call: Call, model: str) -> Generation:
        engine = self.engine(model)
        await engine.ready()
        prompts, _ = self._prompts(call)
        n = call.request.n  # type: ignore[union-attr]
        choices: list[dict[str, Any]] = []
        usage = Usage()
        texts: list[str] = []
        reasons: list[str] = []
        for p_i, prompt in enumerate(prompts):
            for j in range(n):
                params = self._params(call, engine, prompt, j)
                try:
                    out = await engine.complete(prompt, params)
                except QueueFull:
                    raise _busy() from None
                except ValueError as exc:
                    raise Failure(str(exc), client_fault=True) from None
                choice = out["choices"][0]
                text = choice["text"].strip() if call.operation == "chat" else choice["text"]
                reason = choice.get("finish_reason") or "stop"
                usage.input_tokens += out["usage"]["prompt_tokens"] if j == 0 else 0
                usage.output_tokens += out["usage"]["completion_tokens"]
                index = p_i * n + j
                if call.operation == "chat":
                    choices.append({
                        "index": index,
                        "message": {"role": "assistant", "content": text},
                        "logprobs": None,
                        "finish_reason": reason,
                    })  # fmt: skip
                else:
                    choices.append(
                        {"index": index, "text": text, "logprobs": None, "finish_reason": reason}
                    )
                texts.append(text)
                reasons.append(reason)
        chat = call.operation == "chat"
        body = {
            "id": ("chatcmpl-" if chat else "cmpl-") + new_id(),
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
            "usage": usage.openai(),
            "system_fingerprint": None,
        }
        return Generation(body, usage, "\n".join(texts), model, reasons)

    async def stream(self, call: Call, model: str) -> AsyncIterator[Chunk]:
        engine = self.engine(model)
        await engine.ready()
        prompts, _ = self._prompts(call)
        chat = call.operation == "chat"
        n = call.request.n  # type: ignore[union-attr]
        ident = ("chatcmpl-" if chat else "cmpl-") + new_id()
        created = int(time.time())
        obj = "chat.completion.chunk" if chat else "text_completion"
        usage = Usage()

        def body(index: int, text: str | None, finish: str | None, role: bool = False) -> Chunk:
            if chat:
                delta: dict[str, Any] = {"role": "assistant"} if role else {}
                if text is not None:
                    delta["content"] = text
                choice: dict[str, Any] = {"index": index, "delta": delta}
            else:
                choice = {"index": index, "text": text or ""}
            choice.update(logprobs=None, finish_reason=finish)
            b = {"id": ident, "object": obj, "created": created, "model": model,
                 "choices": [choice]}  # fmt: skip
            return Chunk(b, text or "", None, finish)

        for p_i, prompt in enumerate(prompts):
            for j in range(n):
                index = p_i * n + j
                params = self._params(call, engine, prompt, j)
                if chat:
                    yield body(index, "", None, role=True)
                first = True
                try:
                    async for piece in engine.stream(prompt, params):
                        if "usage" in piece:
                            u = piece["usage"]
                            usage.input_tokens += u["prompt_tokens"] if j == 0 else 0
                            usage.output_tokens += u["completion_tokens"]
                            last = body(index, None, piece["finish_reason"])
                            if index == len(prompts) * n - 1:
                                last.usage = usage
                            yield last
                            continue
                        text = piece["text"]
                        if first and chat:
                            text = text.lstrip()
                            first = not text
                            if not text:
                                continue
                        yield body(index, text, None)
                except QueueFull:
                    raise _busy() from None
                except ValueError as exc:
                    raise Failure(str(exc), client_fault=True) from None


def _busy() -> Failure:
    return Failure(
        "the local model's queue is full; try again shortly",
        status=429,
        retryable=True,
        retry_after_s=1.0,
    )
