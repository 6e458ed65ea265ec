"""``shipyard ml pipeline``: run pipelines of cached steps, and register them for retraining."""

from __future__ import annotations

from typing import Any

import click
import orjson
from rich.table import Table

from shipyard.cli.common import (
    console,
    err_console,
    get_client,
    json_option,
    print_json,
    progress_bar,
)
from shipyard.core.errors import InvalidInput


@click.group("pipeline")
def command() -> None:
    """Pipelines: Python functions as steps, cached by content, run as tracked runs."""


def _params(values: tuple[str, ...]) -> dict[str, Any]:
    """``K=V`` pairs; a value that reads as JSON (a number, true, a list) is taken as such."""
    out: dict[str, Any] = {}
    for raw in values:
        key, sep, text = raw.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param takes NAME=VALUE, not {raw!r}")
        try:
            out[key] = orjson.loads(text)
        except orjson.JSONDecodeError:
            out[key] = text
    return out


param_option = click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
    help="A pipeline parameter (repeatable); numbers and true/false are read as such.",
)  # fmt: skip
executor_option = click.option(
    "--executor", default=None, metavar="ADDRESS",
    help="process (a local pool, the default), inline, or dask://HOST:PORT.",
)  # fmt: skip


@command.command("run")
@click.argument("target")
@param_option
@executor_option
@click.option("--workers", type=int, default=None, help="Processes of the local pool.")
@click.option("--no-cache", is_flag=True, help="Run every step, even those already computed.")
@click.option("--alias", default=None, help="Point this alias of the registered model at it.")
@json_option
@click.pass_context
def run(ctx: click.Context, target: str, params: tuple[str, ...], executor: str | None,
        workers: int | None, no_cache: bool, alias: str | None, as_json: bool) -> None:  # fmt: skip
    """Run TARGET: a registered pipeline's name, MODULE:NAME or FILE.py:NAME.

    Steps whose inputs are ready run side by side; a step whose code and inputs were seen
    before is skipped and its stored outputs are used."""
    from shipyard.ml.pipelines.targets import load_target, registered_pipeline

    client = get_client(ctx)
    given = _params(params)
    if ":" in target:
        pipe, spec_params, spec_executor = load_target(target), {}, "process"
    else:
        spec, pipe = registered_pipeline(client, target)
        spec_params, spec_executor = spec.params, spec.executor
    with progress_bar(err_console) as bar:
        task = bar.add_task(pipe.name, total=len(pipe.order))

        def report(event: str, step: str, done: int, total: int) -> None:
            if event == "start":
                bar.update(task, description=f"{pipe.name}: {step}")
            else:
                bar.update(task, completed=done, description=f"{pipe.name}: {step} {event}")

        result = pipe.run(
            {**spec_params, **given}, client=client, executor=executor or spec_executor,
            workers=workers, cache=not no_cache, alias=alias, progress=report,
        )  # fmt: skip
    steps = [s.__dict__ for s in result.steps]
    if as_json:
        model = result.model.model_dump(mode="json") if result.model else None
        print_json({"pipeline": result.pipeline, "run_id": result.run_id, "steps": steps,
                    "model": model})  # fmt: skip
        return
    table = Table(title=f"pipeline {result.pipeline} · run {result.run_id}")
    for col in ("step", "status", "seconds", "outputs"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for s in result.steps:
        outs = ", ".join(f"{k} {v[:8]}" for k, v in s.outputs.items())
        table.add_row(s.name, s.status, f"{s.seconds:.2f}", outs)
    console.print(table)
    if result.model is not None:
        console.print(f"model: {result.model.uri}")


@command.command("register")
@click.argument("name")
@click.argument("target")
@param_option
@executor_option
@click.option("--description", default="", help="What this pipeline is for.")
@click.pass_context
def register(ctx: click.Context, name: str, target: str, params: tuple[str, ...],
             executor: str | None, description: str) -> None:  # fmt: skip
    """Register TARGET (MODULE:NAME or FILE.py:NAME) as pipeline NAME, with its parameters and
    executor, so that retraining (and `shipyard ml pipeline run NAME`) can run it."""
    from shipyard.ml.pipelines.targets import register_pipeline

    version = register_pipeline(
        get_client(ctx), name, target, params=_params(params), executor=executor or "process",
        description=description,
    )  # fmt: skip
    console.print(f"pipeline {name} version {version.version}: {target}")
