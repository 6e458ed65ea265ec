"""``minilm``: all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions) on this machine's cores.

The id names the kernel (``dynamic-int8`` or ``weights-int8``, see ``shipyard.localai.minilm``):
the two give slightly different vectors, so a re-ingest under the other one embeds afresh."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from pydantic import Field

from shipyard.localai.minilm import DIMS, MODEL_ID, MiniLM, kernel
from shipyard.rag.embedders.base import Embedder, EmbedderOptions, register_embedder

if TYPE_CHECKING:
    import numpy as np


class MiniLMOptions(EmbedderOptions):
    batch_size: int = Field(64, ge=1, le=1024)


@functools.cache
def shared_model() -> MiniLM:
    """One MiniLM per process for index embedding and groundedness scoring."""
    return MiniLM(threads=os.cpu_count() or 1)


@register_embedder
class LocalMiniLM(Embedder):
    kind = "minilm"
    Options = MiniLMOptions

    def config(self) -> dict[str, object]:
        return {"type": self.kind}  # the batch size does not change the vectors

    @property
    def id(self) -> str:
        return f"minilm:{MODEL_ID}:{kernel()}"

    @property
    def dims(self) -> int:
        return DIMS

    def embed(self, texts: list[str]) -> np.ndarray:
        return shared_model().embed(texts, batch_size=self.options.batch_size)
