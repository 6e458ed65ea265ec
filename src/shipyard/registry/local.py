"""The registry SDK on the local store (embedded mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.core.identity import Actor
from shipyard.registry.api import RegistryAPI
from shipyard.registry.schemas import (
    AliasEvent,
    CreateEntry,
    CreateVersion,
    Entry,
    Kind,
    Lineage,
    UpdateEntry,
    Version,
)
from shipyard.registry.service import RegistryService
from shipyard.store.artifacts import CHUNK


class LocalRegistry(RegistryAPI):
    def __init__(self, service: RegistryService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    def create_entry(self, req: CreateEntry) -> Entry:
        return self.service.create_entry(self.actor, req)

    def get_entry(self, name: str) -> Entry:
        return self.service.get_entry(name)

    def list_entries(self, kind: Kind | None = None, search: str | None = None) -> list[Entry]:
        return self.service.list_entries(kind, search)

    def update_entry(self, name: str, req: UpdateEntry) -> Entry:
        return self.service.update_entry(self.actor, name, req)

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
        digest = self.service.artifacts.put_file(artifact)[0] if artifact is not None else None
        req = CreateVersion(
            payload=payload or {},
            artifact_digest=digest,
            source_run_id=source_run_id,
            description=description,
            tags=tags or {},
            dedupe=dedupe,
        )
        return self.service.create_version(
            self.actor, name, req, kind=Kind(kind) if kind is not None else None
        )

    def get_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> Version:
        return self.service.get_version(name, version=version, alias=alias)

    def resolve(self, ref: str) -> Version:
        return self.service.resolve(ref)

    def list_versions(self, name: str) -> list[Version]:
        return self.service.list_versions(name)

    def set_alias(self, name: str, alias: str, version: int, reason: str = "") -> AliasEvent:
        return self.service.set_alias(self.actor, name, alias, version, reason)

    def delete_alias(self, name: str, alias: str, reason: str = "") -> AliasEvent:
        return self.service.delete_alias(self.actor, name, alias, reason)

    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.service.history(name, alias)

    def rollback(self, name: str, alias: str, reason: str = "") -> AliasEvent:
        return self.service.rollback(self.actor, name, alias, reason)

    def approve(self, name: str, version: int, comment: str = "") -> Version:
        return self.service.approve(self.actor, name, version, comment)

    def lineage(self, name: str, version: int) -> Lineage:
        return self.service.lineage(name, version)

    def download_artifact(self, digest: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.service.artifacts.open(digest) as src, dest.open("wb") as out:
            for block in iter(lambda: src.read(CHUNK), b""):
                out.write(block)
        return dest

    def upload_artifact(self, source: Path) -> str:
        return self.service.artifacts.put_file(source)[0]
