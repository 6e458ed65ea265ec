"""What every command group shares: the client, output helpers, time formatting."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shipyard.sdk import Client

# Piped output is not cut to 80 columns: ids and names stay whole for grep and scripts.
_WIDE = None if sys.stdout.isatty() else 250
console = Console(highlight=False, soft_wrap=True, markup=False, width=_WIDE)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def get_client(ctx: click.Context) -> Client:
    obj = ctx.ensure_object(dict)
    if "client" not in obj:
        obj["client"] = Client()
        ctx.call_on_close(obj["client"].close)
    client: Client = obj["client"]
    return client


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def since_ms(text: str) -> int:
    """``30m``, ``24h``, ``7d`` (or seconds) before now, as epoch milliseconds."""
    from shipyard.core.ids import now_ms

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    t = text.strip().lower()
    try:
        seconds = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use a duration like 30m, 24h or 7d") from None
    return now_ms() - int(seconds * 1000)


def fmt_duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "-"
    s = (end - start) / 1000
    return f"{s:.1f}s" if s < 120 else f"{s / 60:.1f}m"


def fmt_number(v: float | None) -> str:
    if v is None:
        return "nan"
    return f"{v:.6g}"


def print_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True)
    elif isinstance(data, list):
        data = [
            d.model_dump(mode="json", by_alias=True) if isinstance(d, BaseModel) else d
            for d in data
        ]
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def progress_bar(out: Console | None = None) -> Progress:
    """The one progress bar style of the command line (and the benchmarks)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out or console,
    )


def print_alias_events(events: list[Any], what: str = "alias") -> None:
    """Alias (or prompt label) moves as a table: when, which, what happened, who and why."""
    from rich.table import Table

    table = Table("time (UTC)", what, "action", "from", "to", "by", "reason")
    for e in events:
        table.add_row(fmt_time(e.time_ms), e.alias, e.action, str(e.from_version or "-"),
                      str(e.to_version or "-"), e.actor, e.reason)  # fmt: skip
    console.print(table)
