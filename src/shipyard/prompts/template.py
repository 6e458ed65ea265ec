"""Prompt templates: Jinja2 in a sandbox, with every variable declared and every one given.

``{{ question }}`` inserts a variable; ``{% if context %}…{% endif %}`` and loops work as in
Jinja2. Templates cannot reach Python internals (the sandbox), an undefined name is an error
rather than an empty string, and syntax errors are reported with their line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from shipyard.core.errors import InvalidInput

MAX_OUTPUT_CHARS = 1_000_000


class _Env(ImmutableSandboxedEnvironment):
    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=False,
            auto_reload=False,
            cache_size=0,
        )


_ENV = _Env()  # stateless apart from the compiled-template settings; safe to share


def variables_of(source: str, where: str = "template") -> set[str]:
    """The names a template reads from its caller (loop variables and ``set`` excluded)."""
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(source)))
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"{where}: syntax error at line {exc.lineno}: {exc.message}") from None


class Template:
    """One compiled template text."""

    __slots__ = ("_compiled", "source", "where")

    def __init__(self, source: str, where: str = "template") -> None:
        self.source = source
        self.where = where
        try:
            self._compiled = _ENV.from_string(source)
        except TemplateSyntaxError as exc:
            raise InvalidInput(
                f"{where}: syntax error at line {exc.lineno}: {exc.message}"
            ) from None

    def render(self, values: Mapping[str, Any]) -> str:
        try:
            out = self._compiled.render(values)
        except UndefinedError as exc:
            raise InvalidInput(f"{self.where}: {exc.message}") from None
        except SecurityError as exc:
            raise InvalidInput(f"{self.where}: not allowed in a template: {exc}") from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise InvalidInput(f"{self.where}: {type(exc).__name__}: {exc}") from None
        if len(out) > MAX_OUTPUT_CHARS:
            raise InvalidInput(f"{self.where}: renders to more than {MAX_OUTPUT_CHARS} characters")
        return out


def check_given(declared: Iterable[str], given: Mapping[str, Any], where: str) -> None:
    """A clear error naming every declared variable the caller left out."""
    missing = sorted(set(declared) - set(given))
    if missing:
        have = ", ".join(sorted(given)) or "none"
        raise InvalidInput(
            f"{where} needs the variable{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (given: {have})"
        )
