"""Prompts on top of the registry: entries of kind ``prompt`` whose payload is a PromptSpec.

Labels are registry aliases, so they behave as DESIGN.md says: ``latest`` moves by itself, no
label means ``production``, an unknown label is a 404, every move is recorded with who, when,
from, to and why, and a protected prompt's protected labels only point at approved versions.
"""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.prompts.schemas import (
    CreatePrompt,
    PromptDiff,
    PromptSpec,
    PromptSummary,
    PromptVersion,
)
from shipyard.registry.schemas import CreateVersion, Kind, Version, check_alias
from shipyard.registry.service import RegistryService


class PromptService:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def create(self, actor: Actor, name: str, req: CreatePrompt) -> PromptVersion:
        """Add a version (the prompt too, on its first), then move ``req.labels`` to it."""
        labels = [check_alias(label) for label in req.labels]
        if "latest" in labels:
            raise InvalidInput("'latest' moves by itself and cannot be set")
        version = self.registry.create_version(
            actor,
            name,
            CreateVersion(
                payload=req.spec.dump(),
                description=req.description,
                tags=req.tags,
                dedupe=req.dedupe,
            ),
            kind=Kind.prompt,
        )
        for label in labels:
            if label not in version.aliases:
                self.registry.set_alias(actor, name, label, version.version, "set on create")
        if labels:
            version = self.registry.fetch(name, Kind.prompt, version=version.version)
        return to_prompt(version)

    def get(self, name: str, label: str | None = None, version: int | None = None) -> Version:
        """The registry version behind a label (``production`` when neither is given)."""
        return self.registry.fetch(name, Kind.prompt, version=version, alias=label)

    def list_prompts(self, search: str | None = None) -> list[PromptSummary]:
        return [
            PromptSummary(
                name=e.name,
                description=e.description,
                latest_version=e.latest_version,
                labels=e.aliases,
                protected=e.protected,
                updated_at=e.updated_at,
            )
            for e in self.registry.list_entries(Kind.prompt, search)
        ]

    def versions(self, name: str) -> list[PromptVersion]:
        self.registry.fetch(name, Kind.prompt, alias="latest")  # NotFound / wrong kind
        return [to_prompt(v) for v in self.registry.list_versions(name)]

    def diff(self, name: str, from_version: int, to_version: int) -> PromptDiff:
        a = self.registry.fetch(name, Kind.prompt, version=from_version)
        b = self.registry.fetch(name, Kind.prompt, version=to_version)
        return diff_versions(to_prompt(a), to_prompt(b))


def to_prompt(v: Version) -> PromptVersion:
    # stored specs were checked on the way in: loading them skips parsing the templates
    return PromptVersion.model_validate(wire(v), context={"stored": True})


def wire(v: Version) -> dict[str, Any]:
    """The API's JSON for one version, straight from the stored payload (validated on write)."""
    return {
        "name": v.name,
        "version": v.version,
        "labels": v.aliases,
        "spec": v.payload,
        "content_hash": v.content_hash,
        "description": v.description,
        "tags": v.tags,
        "created_at": v.created_at,
        "created_by": v.created_by,
        "approved": v.approved_at is not None,
    }


def spec_yaml(spec: PromptSpec) -> str:
    """The spec as the YAML a prompt file holds (multi-line text as literal blocks)."""
    return yaml.dump(
        spec.dump(), Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=100
    )


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value.strip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)


def diff_versions(a: PromptVersion, b: PromptVersion) -> PromptDiff:
    left, right = spec_yaml(a.spec), spec_yaml(b.spec)
    lines = difflib.unified_diff(
        left.splitlines(keepends=True),
        right.splitlines(keepends=True),
        fromfile=f"{a.name}/{a.version}",
        tofile=f"{b.name}/{b.version}",
    )
    da, db = a.spec.dump(), b.spec.dump()
    changed = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
    return PromptDiff(
        name=a.name,
        from_version=a.version,
        to_version=b.version,
        diff="".join(lines),
        changed=changed,
    )
