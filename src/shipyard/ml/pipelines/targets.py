"""Finding a pipeline by its target (``package.module:name`` or ``path/to/file.py:name``), and
registered pipelines: registry entries of kind ``pipeline`` that say which target to run, with
which parameters and on which executor (retraining runs them)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.plugins import options_problem
from shipyard.ml.pipelines.pipeline import Pipeline
from shipyard.registry.api import create_labelled_version
from shipyard.registry.schemas import Kind, with_article

if TYPE_CHECKING:
    from shipyard.registry.schemas import Version
    from shipyard.sdk import Client


RECENT = "recent_data"  # a parameter of this name gets an endpoint's recent labeled rows


class PipelineSpec(BaseModel):
    """The payload of a registered pipeline."""

    target: str = Field(min_length=3, description="package.module:name or path/file.py:name")
    params: dict[str, Any] = Field(default_factory=dict)
    executor: str = "process"


def load_target(target: str) -> Pipeline:
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise InvalidInput(f"a pipeline target is MODULE:NAME or FILE.py:NAME, not {target!r}")
    if where.endswith(".py"):
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise InvalidInput(f"no pipeline file at {path}")
        name = f"shipyard_pipeline_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InvalidInput(f"cannot load {path} as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # cloudpickle ships it by value to pool and Dask workers
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise InvalidInput(f"cannot import {where}: {exc}") from None
    found = getattr(module, attr, None)
    if not isinstance(found, Pipeline):
        what = "nothing" if found is None else type(found).__name__
        raise InvalidInput(f"{target} is {what}, not a shipyard Pipeline")
    return found


def register_pipeline(
    client: Client, name: str, target: str, *, params: dict[str, Any] | None = None,
    executor: str = "process", description: str = "",
) -> Version:  # fmt: skip
    """A new version of pipeline entry ``name``; the target must load and take the params."""
    try:
        spec = PipelineSpec(target=target, params=params or {}, executor=executor)
    except ValidationError as exc:
        raise options_problem("pipeline", exc) from None
    pipe = load_target(spec.target)
    supplied = {RECENT: None} if RECENT in pipe.params else {}  # retraining passes it
    pipe.resolve_params({**supplied, **spec.params})
    payload = spec.model_dump(mode="json")
    return create_labelled_version(client.registry, name, Kind.pipeline, payload, description)


def registered_pipeline(client: Client, ref: str) -> tuple[PipelineSpec, Pipeline]:
    try:
        version = client.registry.resolve(ref)
    except NotFound:
        raise NotFound(f"no registered pipeline {ref!r}") from None
    if version.kind != Kind.pipeline:
        raise InvalidInput(f"{ref} is {with_article(version.kind)}, not a pipeline")
    spec = PipelineSpec.model_validate(version.payload)
    return spec, load_target(spec.target)
