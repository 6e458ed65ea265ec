"""Following aliases from a running process: alias → version lookups kept for a few seconds.

A move made in this process (the registry counts them) applies at once; one made by another
process or replica is seen within ``ttl_s``. Serving code (index searches, model endpoints)
reads through this so the hot path does not query the store on every request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.registry.schemas import Kind, Version
    from shipyard.registry.service import RegistryService


class AliasFollower:
    def __init__(self, registry: RegistryService, ttl_s: float) -> None:
        self.registry = registry
        self.ttl_s = ttl_s
        self._seen: dict[tuple[str, str, str], tuple[float, int, Version]] = {}

    def fresh(self, name: str, kind: Kind, alias: str) -> Version | None:
        """The version behind ``name@alias`` if known and still fresh (no I/O)."""
        cached = self._seen.get((kind.value, name, alias))
        if cached is None or cached[1] != self.registry.alias_changes:
            return None
        return cached[2] if time.monotonic() - cached[0] < self.ttl_s else None

    def fetch(self, name: str, kind: Kind, alias: str) -> Version:
        found = self.fresh(name, kind, alias)
        if found is None:
            changes = self.registry.alias_changes  # read before the query: a move during it
            found = self.registry.fetch(name, kind, alias=alias)  # makes the entry stale
            self._seen[(kind.value, name, alias)] = (time.monotonic(), changes, found)
        return found
