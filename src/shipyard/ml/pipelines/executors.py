"""Where pipeline steps run, as plug-ins chosen by the ``--executor`` address:

    inline                 in this process, one step at a time (debugging)
    process                a local process pool (the default)
    dask://HOST:PORT       a Dask distributed cluster (its workers need shipyard installed)

A step travels as one cloudpickled payload (function, inputs, declared outputs) and comes back
as {output: (pickled value, content digest, dataset description)}: values are hashed where they
were made, and nothing on the workers touches Shipyard's store.

    class Executor:
        scheme                    the address prefix it serves
        open(address, workers)    a concurrent.futures.Executor, and how to close it
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import cloudpickle
import orjson

from shipyard.core.errors import InvalidInput, RemoteError
from shipyard.core.plugins import PluginRegistry


class Executor(ABC):
    scheme: ClassVar[str]

    @abstractmethod
    def open(self, address: str, workers: int | None) -> tuple[cf.Executor, Callable[[], None]]: ...


EXECUTORS: PluginRegistry[Executor] = PluginRegistry(
    "executor", lambda cls: cls.scheme, (__name__,), "shipyard.pipeline_executors"
)


def open_executor(spec: str, workers: int | None = None) -> tuple[cf.Executor, Callable[[], None]]:
    scheme, _, address = spec.partition("://")
    return EXECUTORS.get("process" if scheme == "local" else scheme)().open(address, workers)


class _Inline(cf.Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


@EXECUTORS.register
class InlineExecutor(Executor):
    scheme = "inline"

    def open(self, address: str, workers: int | None) -> tuple[cf.Executor, Callable[[], None]]:
        ex = _Inline()
        return ex, ex.shutdown


@EXECUTORS.register
class ProcessExecutor(Executor):
    scheme = "process"

    def open(self, address: str, workers: int | None) -> tuple[cf.Executor, Callable[[], None]]:
        pool = cf.ProcessPoolExecutor(max_workers=workers)
        return pool, lambda: pool.shutdown(wait=True, cancel_futures=True)


@EXECUTORS.register
class DaskExecutor(Executor):
    scheme = "dask"

    def open(self, address: str, workers: int | None) -> tuple[cf.Executor, Callable[[], None]]:
        try:
            from distributed import Client
        except ImportError:
            raise InvalidInput(
                "the dask executor needs Dask: pip install 'shipyard[dask]'"
            ) from None
        if not address:
            raise InvalidInput("give the scheduler's address: dask://HOST:PORT")
        try:
            client = Client(f"tcp://{address}", timeout=15, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise RemoteError(f"no Dask scheduler answers at {address}: {exc}") from None
        return client.get_executor(pure=False), client.close


# -- what runs on a worker ---------------------------------------------------------------------


def content_digest(value: Any, blob: bytes) -> tuple[str, dict[str, Any] | None]:
    """(digest of the value's content, its dataset description when it is a table or array).

    Frames and arrays are hashed by content (the same data made twice has one digest); any
    other value by its pickled bytes."""
    kind = type(value).__module__.split(".")[0]
    table = kind == "pandas" and hasattr(value, "columns")
    if table or (kind == "numpy" and hasattr(value, "dtype")):
        from shipyard.tracking.datasets import describe

        ds = describe(value)
        return ds.digest, ds.model_dump(mode="json")
    if kind == "pandas" and hasattr(value, "dtype"):  # a Series
        from shipyard.tracking.datasets import describe

        ds = describe(value.to_frame())
        return ds.digest, ds.model_dump(mode="json")
    return hashlib.sha256(blob).hexdigest(), None


def param_digest(value: Any) -> str:
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return content_digest(value, cloudpickle.dumps(value))[0]
    return hashlib.sha256(data).hexdigest()


def execute_step(payload: bytes) -> dict[str, Any]:
    """Run one step: {"outputs": {name: (blob, digest, dataset)}, "seconds": float}."""
    step, kwargs = cloudpickle.loads(payload)
    t0 = time.perf_counter()
    result = step.fn(**kwargs)
    seconds = time.perf_counter() - t0
    outputs = {}
    for name, value in step.split_outputs(result).items():
        blob = cloudpickle.dumps(value, protocol=5)
        digest, dataset = content_digest(value, blob)
        outputs[name] = (blob, digest, dataset)
    return {"outputs": outputs, "seconds": seconds}
