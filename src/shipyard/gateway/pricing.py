"""What a call costs: a price table per model, shipped with defaults, overridable per
deployment (a YAML file) and per route target."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipyard.core.errors import InvalidInput
from shipyard.gateway.schemas import Usage


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        total = (
            (usage.input_tokens - cached) * self.input
            + cached * cached_rate
            + usage.output_tokens * self.output
        )
        return total / 1_000_000

    def blended(self) -> float:
        """One number to rank targets by (three input tokens per output token)."""
        return (3 * self.input + self.output) / 4


def _parse(data: Any, source: str) -> dict[str, Price]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a price table maps model names to prices")
    out: dict[str, Price] = {}
    for model, value in data.items():
        try:
            out[str(model).lower()] = Price.model_validate(value)
        except ValidationError as exc:
            raise InvalidInput(f"{source}: price of {model!r}: {exc.errors()[0]['msg']}") from None
    return out


class PriceTable:
    def __init__(self, overrides: Path | None = None) -> None:
        shipped = files("shipyard.gateway").joinpath("prices.yaml").read_text()
        self.prices = _parse(yaml.safe_load(shipped), "shipped prices")
        if overrides is not None:
            try:
                text = Path(overrides).read_text()
            except OSError as exc:
                raise InvalidInput(f"cannot read the price file {overrides}: {exc}") from None
            self.prices.update(_parse(yaml.safe_load(text) or {}, str(overrides)))
        self._memo: dict[str, Price | None] = {}

    def lookup(self, model: str) -> Price | None:
        """The price of ``model``: exact name, else the longest known prefix, else None."""
        key = model.lower()
        if key in self._memo:
            return self._memo[key]
        found = self.prices.get(key)
        if found is None:
            bare = key.rsplit("/", 1)[-1]  # "openai/gpt-4o" → "gpt-4o"
            found = self.prices.get(bare)
            if found is None:
                best = max((k for k in self.prices if bare.startswith(k)), key=len, default=None)
                found = self.prices[best] if best else None
        if len(self._memo) < 10_000:
            self._memo[key] = found
        return found
