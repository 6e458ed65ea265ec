"""Embedders, as plug-ins: ``minilm`` (local ONNX, the default), ``openai`` (any
``/v1/embeddings`` endpoint) and ``gateway`` (a route of this Shipyard's gateway)."""

from shipyard.rag.embedders.base import (
    EMBEDDERS,
    Embedder,
    embedder_from_config,
    parse_embedder,
    register_embedder,
)

__all__ = ["EMBEDDERS", "Embedder", "embedder_from_config", "parse_embedder", "register_embedder"]
