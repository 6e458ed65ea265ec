"""Prompts as YAML files, so teams keep them in git: ``push`` adds a version where a file
changed, ``pull`` writes what a label points at.

One prompt per file; the file name (without .yaml) is the prompt's name unless the file
says ``name:``. Besides the spec fields (template or messages, variables, defaults, model or
route, params, metadata) a file may carry ``description`` and ``labels`` (moved to the pushed
version).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.prompts.schemas import PromptSpec, parse_spec
from shipyard.prompts.sdk import Prompts
from shipyard.prompts.service import spec_yaml
from shipyard.registry.schemas import LATEST, check_alias, check_name

SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)
class PromptFile:
    path: Path
    name: str
    spec: PromptSpec
    description: str
    labels: list[str]


@dataclass(slots=True)
class Pushed:
    name: str
    version: int
    created: bool
    labels: list[str]
    path: Path


def prompt_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    if not path.exists():
        raise NotFound(f"no such file or folder: {path}")
    return [path]


def read_prompt_file(path: Path) -> PromptFile:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path}: a prompt file is a mapping (template:, messages:, ...)")
    doc = dict(doc)
    description = str(doc.pop("description", "") or "")
    labels = doc.pop("labels", []) or []
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list):
        raise InvalidInput(f"{path}: labels: give a list of label names")
    try:  # checked before anything of a push is written
        name = check_name(str(doc.pop("name", path.stem)))
        labels = check_labels([str(x) for x in labels])
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None
    doc.pop("version", None)  # written by pull, for the reader
    try:
        spec = parse_spec(doc, str(path))
    except InvalidInput as exc:
        raise InvalidInput(
            exc.message if str(path) in exc.message else f"{path}: {exc.message}"
        ) from None
    return PromptFile(path, name, spec, description, labels)


def check_labels(labels: list[str]) -> list[str]:
    for label in labels:
        if check_alias(label) == LATEST:
            raise InvalidInput("labels: 'latest' moves by itself and cannot be set")
    return labels


def push(prompts: Prompts, path: Path, labels: list[str] | None = None) -> list[Pushed]:
    """A new version for every file whose content differs from its prompt's newest version.
    Every file is read and checked before anything is written."""
    labels = check_labels(list(labels or []))
    files = [read_prompt_file(p) for p in prompt_files(path)]
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"more than one file defines {', '.join(twice)}")
    out = []
    for f in files:
        try:
            before = prompts.versions(f.name)[0].version
        except NotFound:
            before = 0
        moved = list(dict.fromkeys([*f.labels, *(labels or [])]))
        prompt = prompts.create(
            f.name, spec=f.spec, labels=moved, description=f.description, dedupe=True
        )
        out.append(Pushed(f.name, prompt.version, prompt.version > before, moved, f.path))
    return out


def render_file(name: str, version: int, labels: list[str], spec: PromptSpec,
                description: str = "") -> str:  # fmt: skip
    head = f"# {name}, version {version}" + (f" ({', '.join(labels)})" if labels else "")
    doc: dict[str, Any] = {"name": name}
    if description:
        doc["description"] = description
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) + spec_yaml(spec)
    return f"{head}\n{body}"


def pull(
    prompts: Prompts, dest: Path, names: list[str] | None = None, label: str = "production"
) -> tuple[list[Path], list[str]]:
    """Write ``NAME.yaml`` for each prompt's ``label``; returns (written, skipped reasons)."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = names or [p.name for p in prompts.list()]
    written, skipped = [], []
    for name in wanted:
        try:
            p = prompts.get(name, label, cache_ttl_s=0)
        except NotFound as exc:
            if names:
                raise
            skipped.append(f"{name}: {exc.message}")
            continue
        target = dest / f"{name}.yaml"
        target.write_text(
            render_file(name, p.version, p.labels, p.spec, p.data.description), encoding="utf-8"
        )
        written.append(target)
    return written, skipped
