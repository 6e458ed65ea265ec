"""The prompt SDK over the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.prompts.api import PromptsAPI
from shipyard.prompts.schemas import CreatePrompt, PromptDiff, PromptSummary, PromptVersion

BASE = "/api/v1/prompts"


class RemotePrompts(PromptsAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def create(self, name: str, req: CreatePrompt) -> PromptVersion:
        data = self.t.call(
            "POST", f"{BASE}/{quote(name, safe='')}/versions", json=req.model_dump(mode="json")
        )
        return PromptVersion.model_validate(data, context={"stored": True})

    def fetch(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> PromptVersion:
        params: dict[str, Any] = {}
        if label is not None:
            params["label"] = label
        if version is not None:
            params["version"] = version
        data = self.t.call("GET", f"{BASE}/{quote(name, safe='')}", params=params)
        return PromptVersion.model_validate(data, context={"stored": True})

    def list_prompts(self, search: str | None = None) -> list[PromptSummary]:
        data = self.t.call("GET", BASE, params={"search": search} if search else None)
        return [PromptSummary.model_validate(p) for p in data["prompts"]]

    def versions(self, name: str) -> list[PromptVersion]:
        data = self.t.call("GET", f"{BASE}/{quote(name, safe='')}/versions")
        stored = {"stored": True}
        return [PromptVersion.model_validate(v, context=stored) for v in data["versions"]]

    def diff(self, name: str, from_version: int, to_version: int) -> PromptDiff:
        data = self.t.call(
            "GET",
            f"{BASE}/{quote(name, safe='')}/diff",
            params={"from": from_version, "to": to_version},
        )
        return PromptDiff.model_validate(data)
