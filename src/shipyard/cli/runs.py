"""``shipyard runs``: list (with filters), show and compare runs."""

from __future__ import annotations

import click
from rich.table import Table

from shipyard.cli.common import (
    console,
    fmt_duration,
    fmt_number,
    fmt_time,
    get_client,
    json_option,
    print_json,
)
from shipyard.tracking.schemas import Run


@click.group("runs")
def command() -> None:
    """Runs: params, metrics, tags, artifacts and dataset inputs of one training job."""


@command.command("list")
@click.option(
    "-e", "--experiment", "experiments", multiple=True, help="Experiment name (repeatable)."
)
@click.option(
    "-f",
    "--filter",
    "filter_",
    default="",
    help="e.g. \"metrics.auc > 0.9 and params.model = 'rf'\"",
)
@click.option("-o", "--order-by", multiple=True, help="e.g. 'metrics.auc DESC' (repeatable).")
@click.option("-n", "--max-results", default=50, show_default=True)
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    experiments: tuple[str, ...],
    filter_: str,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    page = get_client(ctx).search_runs(
        filter_, experiments=list(experiments), order_by=list(order_by), max_results=max_results
    )
    if as_json:
        print_json(page.runs)
        return
    metric_keys = sorted({k for r in page.runs for k in r.metrics})[:6]
    table = Table("id", "name", "status", "started", "duration", *metric_keys)
    for r in page.runs:
        table.add_row(
            r.id,
            r.name,
            r.status.value,
            fmt_time(r.start_time),
            fmt_duration(r.start_time, r.end_time),
            *[fmt_number(r.metrics[k]) if k in r.metrics else "" for k in metric_keys],
        )
    console.print(table)
    if page.next_page_token:
        console.print(f"more runs match; showing the first {len(page.runs)}")


@command.command("show")
@click.argument("run_id")
@json_option
@click.pass_context
def show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Everything about one run."""
    client = get_client(ctx)
    run = client.tracking.get_run(run_id)
    artifacts = client.tracking.list_artifacts(run_id)
    if as_json:
        data = run.model_dump(mode="json", by_alias=True)
        data["artifacts"] = [a.model_dump() for a in artifacts]
        print_json(data)
        return
    console.print(f"{run.name}  {run.id}  {run.status.value}")
    console.print(
        f"started {fmt_time(run.start_time)}  ended {fmt_time(run.end_time)}  "
        f"({fmt_duration(run.start_time, run.end_time)})  by {run.created_by}"
    )
    if run.parent_run_id:
        console.print(f"parent run: {run.parent_run_id}")
    git = run.system.get("git") or {}
    console.print(
        f"python {run.system.get('python', '?')}"
        + (
            f"  git {git.get('commit', '')[:12]}{' (dirty)' if git.get('dirty') else ''}"
            if git
            else ""
        )
    )
    _kv_table("params", run.params)
    _kv_table("metrics (latest)", {k: fmt_number(v) for k, v in run.metrics.items()})
    _kv_table("tags", run.tags)
    if run.inputs:
        t = Table("dataset", "context", "digest", "rows", title="inputs")
        for d in run.inputs:
            t.add_row(
                d.name, d.context, d.digest[:16], str(d.num_rows if d.num_rows is not None else "?")
            )
        console.print(t)
    if artifacts:
        t = Table("path", "size", "digest", title="artifacts")
        for a in artifacts:
            t.add_row(a.path, str(a.size), a.digest[:16])
        console.print(t)


def _kv_table(title: str, data: dict[str, str]) -> None:
    if not data:
        return
    t = Table("name", "value", title=title)
    for k, v in sorted(data.items()):
        t.add_row(k, str(v))
    console.print(t)


@command.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@json_option
@click.pass_context
def compare(ctx: click.Context, run_ids: tuple[str, ...], as_json: bool) -> None:
    """Params and latest metrics of several runs side by side; differing rows in bold."""
    client = get_client(ctx)
    runs = [client.tracking.get_run(r) for r in run_ids]
    if as_json:
        print_json({"runs": [r.model_dump(mode="json", by_alias=True) for r in runs]})
        return
    table = Table("", *[f"{r.name}\n{r.id[-8:]}" for r in runs])
    _compare_rows(table, runs, "param", lambda r: r.params)
    _compare_rows(table, runs, "metric", lambda r: {k: fmt_number(v) for k, v in r.metrics.items()})
    console.print(table)


def _compare_rows(table: Table, runs: list[Run], label: str, get: object) -> None:
    values = [get(r) for r in runs]  # type: ignore[operator]
    for key in sorted({k for v in values for k in v}):
        cells = [str(v.get(key, "-")) for v in values]
        style = "bold" if len(set(cells)) > 1 else ""
        table.add_row(f"{label}.{key}", *cells, style=style)
