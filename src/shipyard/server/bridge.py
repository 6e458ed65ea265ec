"""Calling the gateway from worker threads: the gateway's coroutines run on the server's
event loop (where its connection pools live); sync code in a worker thread waits for them."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.gateway.service import Answer
from shipyard.gateway.telemetry import caller_from, context_headers
from shipyard.platform import Platform


def gateway_call(plat: Platform, actor: Actor, loop: asyncio.AbstractEventLoop) -> Any:
    """``(operation, body, context) -> (body, headers)`` for code in a worker thread."""
    gateway = plat.gateway

    def call(operation: str, body: dict[str, Any], context: dict[str, Any]) -> Any:
        headers = context_headers({k: v for k, v in context.items() if v is not None})
        caller = caller_from({k.lower(): v for k, v in headers.items()}, actor,
                             gateway.settings.gateway.gateway_project)  # fmt: skip
        raw = orjson.dumps({**body, "stream": False})
        if operation == "embeddings":
            coro: Any = gateway.embed(caller, orjson.dumps(body))
        else:
            coro = gateway.generate(caller, operation, raw)  # type: ignore[arg-type]
        answer = asyncio.run_coroutine_threadsafe(coro, loop).result()
        if not isinstance(answer, Answer):
            raise InvalidInput("a streamed answer cannot be used here")
        return answer.body, answer.headers

    return call
