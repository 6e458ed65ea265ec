"""The prompt SDK on the local store (embedded mode)."""

from __future__ import annotations

from shipyard.core.identity import Actor
from shipyard.prompts.api import PromptsAPI
from shipyard.prompts.schemas import CreatePrompt, PromptDiff, PromptSummary, PromptVersion
from shipyard.prompts.service import PromptService, to_prompt


class LocalPrompts(PromptsAPI):
    def __init__(self, service: PromptService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    def create(self, name: str, req: CreatePrompt) -> PromptVersion:
        return self.service.create(self.actor, name, req)

    def fetch(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> PromptVersion:
        return to_prompt(self.service.get(name, label, version))

    def list_prompts(self, search: str | None = None) -> list[PromptSummary]:
        return self.service.list_prompts(search)

    def versions(self, name: str) -> list[PromptVersion]:
        return self.service.versions(name)

    def diff(self, name: str, from_version: int, to_version: int) -> PromptDiff:
        return self.service.diff(name, from_version, to_version)
