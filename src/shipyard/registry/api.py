"""The registry interface of the SDK: a local (store) and a remote (HTTP) implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from shipyard.registry.schemas import (
    AliasEvent,
    CreateEntry,
    Entry,
    Kind,
    Lineage,
    UpdateEntry,
    Version,
)


class RegistryAPI(ABC):
    @abstractmethod
    def create_entry(self, req: CreateEntry) -> Entry: ...

    @abstractmethod
    def get_entry(self, name: str) -> Entry: ...

    @abstractmethod
    def list_entries(self, kind: Kind | None = None, search: str | None = None) -> list[Entry]: ...

    @abstractmethod
    def update_entry(self, name: str, req: UpdateEntry) -> Entry: ...

    @abstractmethod
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
        """Add a version (uploading ``artifact`` first); with ``kind``, create a missing entry."""

    @abstractmethod
    def get_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> Version: ...

    @abstractmethod
    def resolve(self, ref: str) -> Version:
        """``name@alias``, ``name/3`` or ``name`` (the ``production`` alias)."""

    @abstractmethod
    def list_versions(self, name: str) -> list[Version]: ...

    @abstractmethod
    def set_alias(self, name: str, alias: str, version: int, reason: str = "") -> AliasEvent: ...

    @abstractmethod
    def delete_alias(self, name: str, alias: str, reason: str = "") -> AliasEvent: ...

    @abstractmethod
    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]: ...

    @abstractmethod
    def rollback(self, name: str, alias: str, reason: str = "") -> AliasEvent: ...

    @abstractmethod
    def approve(self, name: str, version: int, comment: str = "") -> Version: ...

    @abstractmethod
    def lineage(self, name: str, version: int) -> Lineage: ...

    @abstractmethod
    def download_artifact(self, digest: str, dest: Path) -> Path: ...

    @abstractmethod
    def upload_artifact(self, source: Path) -> str:
        """Store a file as a content-addressed blob; returns its sha256 digest."""


def create_labelled_version(
    registry: RegistryAPI, name: str, kind: Kind, payload: dict[str, Any], description: str = ""
) -> Version:
    """A new version of a configuration entry (an app, an endpoint); an unchanged payload
    returns the newest version, and the entry's first version is labelled production."""
    from shipyard.core.errors import NotFound

    try:
        registry.get_version(name, alias="production")
        first = False
    except NotFound:
        first = True
    version = registry.create_version(name, kind=kind, payload=payload, description=description,
                                      dedupe=True)  # fmt: skip
    if first:
        registry.set_alias(name, "production", version.version, "first version")
    return version
