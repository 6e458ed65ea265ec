"""Pipeline steps: plain Python functions with declared inputs and outputs.

    @step(outputs=["X_train", "X_test", "y_train", "y_test"])
    def split(X, y, test_size=0.25, seed=0):
        return train_test_split(X, y, test_size=test_size, random_state=seed)

A step's inputs are its parameters: each is bound to the output of the step that declares it,
or else to a pipeline parameter (``run(params=...)``), or else to the parameter's default.
A step returns one value per declared output (a tuple in order, or a dict by name).

A step's cache key is the hash of its code, its declared outputs, its ``version`` and the
content digests of its inputs: a step whose key was computed before is not run again. Code
that a step calls is not part of its hash: raise ``version`` when such code changes.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import InvalidInput

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True)
class Step:
    fn: Callable[..., Any]
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    cache: bool = True
    version: str = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def code_hash(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.name}\0{','.join(self.outputs)}\0{self.version}\0".encode())
        try:
            h.update(textwrap.dedent(inspect.getsource(self.fn)).encode())
        except (OSError, TypeError):  # no source (built in a REPL): the compiled code
            code = self.fn.__code__
            h.update(code.co_code)
            h.update(repr(code.co_consts).encode())
            h.update(repr(code.co_names).encode())
        return h.hexdigest()

    def split_outputs(self, result: Any) -> dict[str, Any]:
        """The step's return value as {output: value}; a clear error when it does not fit."""
        names = self.outputs
        if len(names) == 1 and not (isinstance(result, dict) and set(result) == set(names)):
            return {names[0]: result}
        if isinstance(result, dict):
            if set(result) != set(names):
                raise InvalidInput(
                    f"step {self.name} returned keys {sorted(map(str, result))}, "
                    f"declared outputs are {list(names)}"
                )
            return {n: result[n] for n in names}
        if isinstance(result, tuple | list) and len(result) == len(names):
            return dict(zip(names, result, strict=True))
        got = f"{len(result)} values" if isinstance(result, tuple | list) else "one value"
        raise InvalidInput(f"step {self.name} returned {got}, declared outputs are {list(names)}")


def step(
    fn: Callable[..., Any] | None = None, *, outputs: str | Sequence[str],
    inputs: Sequence[str] | None = None, name: str | None = None, cache: bool = True,
    version: str = "",
) -> Any:  # fmt: skip
    """Make ``fn`` a pipeline step (usable as ``@step(outputs=...)``)."""

    def wrap(f: Callable[..., Any]) -> Step:
        return make_step(f, outputs=outputs, inputs=inputs, name=name, cache=cache,
                         version=version)  # fmt: skip

    return wrap(fn) if fn is not None else wrap


def make_step(
    fn: Callable[..., Any], *, outputs: str | Sequence[str], inputs: Sequence[str] | None,
    name: str | None, cache: bool, version: str,
) -> Step:  # fmt: skip
    step_name = name or fn.__name__
    _check_name("step", step_name)
    outs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    if not outs:
        raise InvalidInput(f"step {step_name} declares no outputs")
    for out in outs:
        _check_name("output", out)
    if len(set(outs)) != len(outs):
        raise InvalidInput(f"step {step_name} declares an output twice: {list(outs)}")
    params = inspect.signature(fn).parameters.values()
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise InvalidInput(f"step {step_name}: parameter {p.name!r} must be a named one")
    names = tuple(p.name for p in params)
    if inputs is not None and set(inputs) != set(names):
        raise InvalidInput(
            f"step {step_name} declares inputs {list(inputs)} but its parameters are {list(names)}"
        )
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    return Step(fn, step_name, names, outs, defaults, cache, version)


def _check_name(what: str, name: str) -> None:
    if not name or not set(name) <= NAME_CHARS:
        raise InvalidInput(f"invalid {what} name {name!r}: use letters, digits, '_', '.', '-'")


def plan(steps: Iterable[Step]) -> tuple[list[Step], dict[str, Step], dict[str, Any]]:
    """(steps in an order they can run, producer of each output, free inputs → default).

    A free input is one no step produces: a pipeline parameter. Its default is the first
    default given by a step that takes it (``...`` when none does)."""
    steps = list(steps)
    if not steps:
        raise InvalidInput("a pipeline needs at least one step")
    producer: dict[str, Step] = {}
    seen: set[str] = set()
    for s in steps:
        if not isinstance(s, Step):
            raise InvalidInput(f"{s!r} is not a step: decorate it with @step(outputs=...)")
        if s.name in seen:
            raise InvalidInput(f"two steps are named {s.name!r}")
        seen.add(s.name)
        for out in s.outputs:
            if out in producer:
                first = producer[out].name
                raise InvalidInput(f"output {out!r} comes from both {first} and {s.name}")
            producer[out] = s
    free: dict[str, Any] = {}
    for s in steps:
        for name in s.inputs:
            if name not in producer and (name not in free or free[name] is ...):
                free[name] = s.defaults.get(name, ...)
    order: list[Step] = []
    placed: set[str] = set()
    pending = list(steps)
    while pending:
        ready = [s for s in pending if all(producer[i].name in placed
                                           for i in s.inputs if i in producer)]  # fmt: skip
        if not ready:
            names = ", ".join(s.name for s in pending)
            raise InvalidInput(f"the steps {names} depend on each other in a cycle")
        for s in ready:
            order.append(s)
            placed.add(s.name)
            pending.remove(s)
    return order, producer, free
