"""Plug-in registries: classes registered by name, built-ins imported on first use, and
third-party ones loaded from an entry-point group. Options are validated by each class's
pydantic ``Options`` model, and a bad name or option is an ``InvalidInput`` that says which."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from shipyard.core.errors import InvalidInput

T = TypeVar("T")


def options_problem(what: str, exc: ValidationError) -> InvalidInput:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                         for e in exc.errors())  # fmt: skip
    return InvalidInput(f"{what}: {problems}")


class PluginRegistry(Generic[T]):
    def __init__(
        self, what: str, key: Callable[[type[T]], str], builtins: tuple[str, ...], group: str
    ) -> None:
        self.what = what  # "embedder", "vector backend"...
        self.key = key
        self.builtins = builtins
        self.group = group
        self.classes: dict[str, type[T]] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def register(self, cls: type[T]) -> type[T]:
        self.classes[self.key(cls)] = cls
        return cls

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            for module in self.builtins:
                importlib.import_module(module)  # registers on import
            for ep in entry_points(group=self.group):
                self.register(ep.load())

    def get(self, name: str) -> type[T]:
        self._load()
        cls = self.classes.get(name)
        if cls is None:
            known = ", ".join(sorted(self.classes))
            raise InvalidInput(f"unknown {self.what} {name!r}: use one of {known}")
        return cls

    def options(self, name: str, model: type[BaseModel], raw: dict[str, Any]) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise options_problem(f"{self.what} {name}", exc) from None

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(sorted(self.classes))
