"""``client.prompts`` (and ``shipyard.prompts.get``): prompts for application code."""

from __future__ import annotations

import builtins
import logging
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import RemoteError, ShipyardError
from shipyard.prompts.api import PromptsAPI
from shipyard.prompts.cache import Key, PromptCache
from shipyard.prompts.prompt import Prompt
from shipyard.prompts.schemas import (
    CreatePrompt,
    PromptDiff,
    PromptSpec,
    PromptSummary,
    PromptVersion,
    parse_spec,
)
from shipyard.registry.api import RegistryAPI
from shipyard.registry.schemas import AliasEvent

if TYPE_CHECKING:
    from shipyard.sdk import Client

log = logging.getLogger("shipyard.prompts")

Fallback = PromptSpec | dict[str, Any] | str | list[dict[str, Any]]


class Prompts:
    """Fetch (cached), create, label, roll back and compare prompt versions."""

    def __init__(
        self, api: PromptsAPI, registry: RegistryAPI, client: Client, ttl_s: float
    ) -> None:
        self.api = api
        self.registry = registry
        self._client = client
        self.cache = PromptCache(self._fetch, ttl_s)

    def _fetch(self, key: Key) -> Prompt:
        return Prompt(self.api.fetch(*key), client=self._client)

    def get(
        self,
        name: str,
        label: str | None = None,
        version: int | None = None,
        *,
        cache_ttl_s: float | None = None,
        fallback: Fallback | None = None,
    ) -> Prompt:
        """The prompt behind ``label`` (default ``production``), or a pinned ``version``.

        Served from the in-process cache while fresh (``cache_ttl_s``, default from
        ``SHIPYARD_PROMPTS_CACHE_TTL_S``; 0 turns it off). ``fallback`` (a template string,
        a list of messages, or a spec) stands in when the server cannot be reached and
        nothing is cached; an unknown prompt or label still raises ``NotFound``.
        """
        try:
            return self.cache.get((name, label, version), cache_ttl_s)
        except ShipyardError as exc:
            if fallback is None or not (isinstance(exc, RemoteError) or exc.status >= 500):
                raise
            log.warning("prompt %s: using the fallback (%s)", name, exc)
            return Prompt.from_spec(name, fallback, client=self._client)

    def create(
        self,
        name: str,
        template: str | None = None,
        *,
        messages: builtins.list[dict[str, Any]] | None = None,
        spec: PromptSpec | dict[str, Any] | None = None,
        labels: builtins.list[str] | tuple[str, ...] = (),
        description: str = "",
        dedupe: bool = True,
        **config: Any,
    ) -> Prompt:
        """A new version from a text ``template``, chat ``messages`` or a whole ``spec``;
        ``config``: variables, defaults, model, route, params, metadata."""
        if spec is None:
            spec = {"template": template, "messages": messages, **config}
        spec = parse_spec(spec, f"prompt {name}")
        req = CreatePrompt(spec=spec, description=description, labels=list(labels), dedupe=dedupe)
        data = self.api.create(name, req)
        self.cache.invalidate(name)
        return Prompt(data, client=self._client)

    def list(self, search: str | None = None) -> builtins.list[PromptSummary]:
        return self.api.list_prompts(search)

    def versions(self, name: str) -> builtins.list[PromptVersion]:
        return self.api.versions(name)

    def diff(self, name: str, from_version: int, to_version: int) -> PromptDiff:
        return self.api.diff(name, from_version, to_version)

    # -- labels (registry aliases) ------------------------------------------------------------

    def set_label(self, name: str, label: str, version: int, reason: str = "") -> AliasEvent:
        self.versions(name)  # a prompt, not another kind of entry
        event = self.registry.set_alias(name, label, version, reason)
        self.cache.invalidate(name)
        return event

    def rollback(self, name: str, label: str = "production", reason: str = "") -> AliasEvent:
        """Move ``label`` back to where it pointed before its last move."""
        self.versions(name)
        event = self.registry.rollback(name, label, reason)
        self.cache.invalidate(name)
        return event

    def delete_label(self, name: str, label: str, reason: str = "") -> AliasEvent:
        self.versions(name)
        event = self.registry.delete_alias(name, label, reason)
        self.cache.invalidate(name)
        return event

    def history(self, name: str, label: str | None = None) -> builtins.list[AliasEvent]:
        """Every label move, oldest first: who, when, from, to and why."""
        return self.registry.history(name, label)

    def approve(self, name: str, version: int, comment: str = "") -> PromptVersion:
        self.registry.approve(name, version, comment)
        return self.api.fetch(name, version=version)
