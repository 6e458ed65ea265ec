"""The prompt interface of the SDK: a local (store) and a remote (HTTP) implementation.
Labels move through the registry interface (``client.registry``): a label is an alias."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.prompts.schemas import CreatePrompt, PromptDiff, PromptSummary, PromptVersion


class PromptsAPI(ABC):
    @abstractmethod
    def create(self, name: str, req: CreatePrompt) -> PromptVersion: ...

    @abstractmethod
    def fetch(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> PromptVersion:
        """One version, uncached: by number, by label, or ``production``."""

    @abstractmethod
    def list_prompts(self, search: str | None = None) -> list[PromptSummary]: ...

    @abstractmethod
    def versions(self, name: str) -> list[PromptVersion]: ...

    @abstractmethod
    def diff(self, name: str, from_version: int, to_version: int) -> PromptDiff: ...
