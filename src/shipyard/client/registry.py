"""The registry SDK over the REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.registry.api import RegistryAPI
from shipyard.registry.schemas import (
    AliasEvent,
    CreateEntry,
    Entry,
    Kind,
    Lineage,
    UpdateEntry,
    Version,
    content_hash,
)


def _p(name: str) -> str:
    return f"/api/v1/registry/{quote(name, safe='')}"


class RemoteRegistry(RegistryAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def create_entry(self, req: CreateEntry) -> Entry:
        return Entry.model_validate(
            self.t.call("POST", "/api/v1/registry", json=req.model_dump(mode="json"))
        )

    def get_entry(self, name: str) -> Entry:
        return Entry.model_validate(self.t.call("GET", _p(name)))

    def list_entries(self, kind: Kind | None = None, search: str | None = None) -> list[Entry]:
        params = {
            k: v for k, v in (("kind", kind.value if kind else None), ("search", search)) if v
        }
        data = self.t.call("GET", "/api/v1/registry", params=params)
        return [Entry.model_validate(e) for e in data["entries"]]

    def update_entry(self, name: str, req: UpdateEntry) -> Entry:
        body = req.model_dump(mode="json", exclude_none=True)
        return Entry.model_validate(self.t.call("PATCH", _p(name), json=body))

    def create_version(
        self,
        name: str,
        *,
        kind: Kind | str | None = None,
        payload: dict[str, Any] | None = None,
        artifact: Path | None = None,
        source_run_id: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
        dedupe: bool = False,
    ) -> Version:
        content_hash(payload or {}, None)  # refuses what is not plain JSON, as the server would
        digest = None
        if artifact is not None:
            digest = self.t.upload("POST", "/api/v1/artifacts", artifact)["digest"]
        body = {
            "payload": payload or {},
            "artifact_digest": digest,
            "source_run_id": source_run_id,
            "description": description,
            "tags": tags or {},
            "dedupe": dedupe,
        }
        params = {"kind": Kind(kind).value} if kind else None
        return Version.model_validate(
            self.t.call("POST", f"{_p(name)}/versions", json=body, params=params)
        )

    def get_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> Version:
        if version is not None:
            return Version.model_validate(self.t.call("GET", f"{_p(name)}/versions/{version}"))
        params = {"alias": alias} if alias else None
        return Version.model_validate(self.t.call("GET", f"{_p(name)}/resolve", params=params))

    def resolve(self, ref: str) -> Version:
        return Version.model_validate(
            self.t.call("GET", "/api/v1/registry-resolve", params={"ref": ref})
        )

    def list_versions(self, name: str) -> list[Version]:
        data = self.t.call("GET", f"{_p(name)}/versions")
        return [Version.model_validate(v) for v in data["versions"]]

    def set_alias(self, name: str, alias: str, version: int, reason: str = "") -> AliasEvent:
        body = {"version": version, "reason": reason}
        path = f"{_p(name)}/aliases/{quote(alias, safe='')}"
        return AliasEvent.model_validate(self.t.call("PUT", path, json=body))

    def delete_alias(self, name: str, alias: str, reason: str = "") -> AliasEvent:
        path = f"{_p(name)}/aliases/{quote(alias, safe='')}"
        return AliasEvent.model_validate(self.t.call("DELETE", path, params={"reason": reason}))

    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"alias": alias} if alias else None
        data = self.t.call("GET", f"{_p(name)}/history", params=params)
        return [AliasEvent.model_validate(e) for e in data["events"]]

    def rollback(self, name: str, alias: str, reason: str = "") -> AliasEvent:
        path = f"{_p(name)}/aliases/{quote(alias, safe='')}/rollback"
        return AliasEvent.model_validate(self.t.call("POST", path, json={"reason": reason}))

    def approve(self, name: str, version: int, comment: str = "") -> Version:
        path = f"{_p(name)}/versions/{version}/approve"
        return Version.model_validate(self.t.call("POST", path, json={"comment": comment}))

    def lineage(self, name: str, version: int) -> Lineage:
        return Lineage.model_validate(self.t.call("GET", f"{_p(name)}/versions/{version}/lineage"))

    def download_artifact(self, digest: str, dest: Path) -> Path:
        return self.t.download(f"/api/v1/artifacts/{digest}", dest)

    def upload_artifact(self, source: Path) -> str:
        digest: str = self.t.upload("POST", "/api/v1/artifacts", source)["digest"]
        return digest
