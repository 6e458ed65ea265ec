"""Prompt templates in the registry: rendering, labels, diffs, files, and the SDK cache.

prompt = shipyard.prompts.get("support-answer")          # the production label
prompt.render(question="...")                            # text, or chat messages
prompt.complete(question="...").text                     # through the gateway, traced
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.prompts.prompt import Prompt


def get(
    name: str,
    label: str | None = None,
    version: int | None = None,
    *,
    cache_ttl_s: float | None = None,
    fallback: Any = None,
) -> Prompt:
    """A prompt from the default client (see ``Prompts.get``)."""
    from shipyard.sdk import get_client

    return get_client().prompts.get(
        name, label, version, cache_ttl_s=cache_ttl_s, fallback=fallback
    )


__all__ = ["get"]
