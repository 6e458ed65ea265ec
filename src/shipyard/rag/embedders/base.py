"""The embedder plug-in interface.

    class Embedder:
        kind                    the name it is registered under
        Options                 a pydantic model of its configuration (stored with the index)
        id                      what the embedding cache keys on: type, model and endpoint
        dims                    vector width (may be learnt on the first call)
        embed(texts)            -> float32 array, one unit-length row per text

An index version stores its embedder's configuration, never a secret: an endpoint's key is
named by the environment variable that holds it. Third-party embedders load through the
entry-point group ``shipyard.embedders``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from shipyard.core.errors import InvalidInput
from shipyard.core.plugins import PluginRegistry

if TYPE_CHECKING:
    import numpy as np


class EmbedderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Embedder(ABC):
    kind: ClassVar[str]
    Options: ClassVar[type[EmbedderOptions]] = EmbedderOptions

    def __init__(self, options: Any, context: Any = None) -> None:
        self.options = options
        self.context = context  # the platform or client that built it, for in-process calls

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, **self.options.model_dump(exclude_defaults=False)}

    @property
    @abstractmethod
    def id(self) -> str: ...

    @property
    @abstractmethod
    def dims(self) -> int: ...

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models."""


EMBEDDERS: PluginRegistry[Embedder] = PluginRegistry(
    "embedder", lambda cls: cls.kind,
    ("shipyard.rag.embedders.http", "shipyard.rag.embedders.local"), "shipyard.embedders",
)  # fmt: skip
register_embedder = EMBEDDERS.register


def embedder_from_config(config: dict[str, Any], context: Any = None) -> Embedder:
    options = dict(config)
    kind = str(options.pop("type", "minilm"))
    cls = EMBEDDERS.get(kind)
    return cls(EMBEDDERS.options(kind, cls.Options, options), context)


def parse_embedder(spec: str) -> dict[str, Any]:
    """A command-line spelling → a configuration.

    ``minilm``; ``gateway:ROUTE`` (this Shipyard's gateway); ``openai:MODEL@BASE_URL``
    (any ``/v1/embeddings`` endpoint, key from ``OPENAI_API_KEY``)."""
    spec = spec.strip()
    if spec in ("", "minilm", "local"):
        return {"type": "minilm"}
    kind, _, rest = spec.partition(":")
    if kind == "gateway" and rest:
        return {"type": "gateway", "route": rest}
    if kind == "openai" and rest:
        model, _, base = rest.partition("@")
        config: dict[str, Any] = {"type": "openai", "model": model}
        if base:
            config["base_url"] = base
        return config
    raise InvalidInput(
        f"unknown embedder {spec!r}: use minilm, gateway:ROUTE or openai:MODEL[@BASE_URL]"
    )
