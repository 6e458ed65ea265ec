"""``shipyard eval``: run an eval set against a prompt, a model or a function; compare two
runs; gate a candidate against a baseline in CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from shipyard.cli.common import console, err_console, get_client, json_option
from shipyard.evals.compare import Comparison, print_comparison, render_html, render_markdown
from shipyard.evals.gate import decide, run_side, side_of_run
from shipyard.evals.runner import EvalInterrupted, EvalReport, run_eval
from shipyard.evals.targets import CallableTarget, EvalTarget, ModelTarget, PromptTarget
from shipyard.sdk import Client


@click.group("eval")
def command() -> None:
    """Eval runs: an eval set against a prompt version, a model or a Python function.

    Every case is traced; results are stored case by case (an interrupted run resumes when
    the same command runs again) and the run is a tracking run with its params and metrics.
    """


def _target(client: Client, prompt: str | None, model: str | None, function: str | None,
            params: dict[str, Any]) -> EvalTarget:  # fmt: skip
    if prompt:
        return PromptTarget(client, prompt, model=model, params=params)
    if function:
        return CallableTarget(function)
    if model:
        return ModelTarget(client, model, params)
    raise click.UsageError("give what to evaluate: --prompt NAME@LABEL, --model or --function")


def _params(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if temperature is not None:
        out["temperature"] = temperature
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    return out


def _run(client: Client, evalset: str, target: EvalTarget, **kw: Any) -> EvalReport:
    try:
        return run_eval(client, evalset, target, console=err_console, **kw)
    except EvalInterrupted as exc:
        err_console.print(exc.message, style="yellow")
        sys.exit(130)


def _print_report(r: EvalReport) -> None:
    state = "reused finished run" if r.reused else f"{r.ran} case(s) run"
    console.print(f"run {r.run_id} ({r.experiment}): {r.evalset} × {r.target} — {r.status}, "
                  f"{state}")  # fmt: skip
    table = Table("metric", "value")
    for key, value in r.metrics.items():
        table.add_row(key, f"{value:.4g}")
    console.print(table)
    for sample in r.error_samples:
        console.print(f"error: {sample}")


target_options = [
    click.option("--prompt", help="A prompt: NAME@LABEL, NAME/VERSION or NAME (production)."),
    click.option(
        "--model",
        help="A gateway route or upstream/model (with --prompt: overrides the prompt's model).",
    ),
    click.option("--function", help="A Python function, module:name, called per case."),
    click.option("--temperature", type=float, default=None, help="Override the temperature."),
    click.option("--max-tokens", type=int, default=None, help="Override max_tokens."),
]


def _with(options: list[Any]) -> Any:
    def wrap(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return wrap


@command.command("run")
@click.option("--evalset", required=True, help="NAME (newest version), NAME@LABEL or NAME/3.")
@_with(target_options)
@click.option("--concurrency", type=int, default=None, help="Cases at once (default 4).")
@click.option("--limit", type=int, default=None, help="Only the first N cases.")
@click.option("--experiment", default=None, help="Default: evals/<eval set>.")
@click.option("--fresh", is_flag=True, help="Start a new run even if an identical one exists.")
@json_option
@click.pass_context
def run(ctx: click.Context, evalset: str, prompt: str | None, model: str | None,
        function: str | None, temperature: float | None, max_tokens: int | None,
        concurrency: int | None, limit: int | None, experiment: str | None, fresh: bool,
        as_json: bool) -> None:  # fmt: skip
    """Run an eval set (an unfinished identical run is resumed)."""
    client = get_client(ctx)
    target = _target(client, prompt, model, function, _params(temperature, max_tokens))
    r = _run(client, evalset, target, concurrency=concurrency, limit=limit,
             experiment=experiment, fresh=fresh)  # fmt: skip
    if as_json:
        out = {"run_id": r.run_id, "status": r.status, "metrics": r.metrics, "params": r.params,
               "cases": r.cases, "errors": r.errors}  # fmt: skip
        click.echo(json.dumps(out))
    else:
        _print_report(r)


def _write_reports(comp: Comparison, out: Path | None) -> list[Path]:
    folder = out or Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"eval-compare-{comp.a.run_id[-8:]}-{comp.b.run_id[-8:]}"
    md, html = folder / f"{stem}.md", folder / f"{stem}.html"
    md.write_text(render_markdown(comp), encoding="utf-8")
    html.write_text(render_html(comp), encoding="utf-8")
    return [md, html]


@command.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the Markdown and HTML reports (default: here).")  # fmt: skip
@json_option
@click.pass_context
def compare_(ctx: click.Context, run_a: str, run_b: str, out: Path | None, as_json: bool) -> None:
    """Compare two eval runs case by case: means, differences, paired significance tests
    (bootstrap and Wilcoxon) and the cases that regressed."""
    from shipyard.evals.compare import compare

    client = get_client(ctx)
    comp = compare(side_of_run(client, run_a), side_of_run(client, run_b))
    paths = _write_reports(comp, out)
    if as_json:
        click.echo(comp.model_dump_json())
        return
    print_comparison(console, comp)
    console.print("reports: " + ", ".join(str(p) for p in paths))


@command.command("gate")
@click.option("--evalset", required=True, help="NAME (newest version), NAME@LABEL or NAME/3.")
@click.option("--candidate", required=True, help="The prompt to ship: NAME@LABEL or NAME/3.")
@click.option("--baseline", required=True, help="What it must not be worse than.")
@click.option("--min-pass-rate", type=float, default=None, help="Floor for the candidate.")
@click.option(
    "--max-regression",
    type=float,
    default=0.0,
    show_default=True,
    help="Largest allowed drop of the pass rate, the score and each assertion's mean.",
)
@click.option("--model", default=None, help="Run both prompts on this model instead.")
@click.option("--concurrency", type=int, default=None)
@click.option("--limit", type=int, default=None, help="Only the first N cases.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the comparison reports (Markdown, HTML) here.")  # fmt: skip
@json_option
@click.pass_context
def gate(ctx: click.Context, evalset: str, candidate: str, baseline: str,
         min_pass_rate: float | None, max_regression: float, model: str | None,
         concurrency: int | None, limit: int | None, report: Path | None,
         as_json: bool) -> None:  # fmt: skip
    """Exit 0 when the candidate passes, 1 (with the reasons) when it is worse."""
    client = get_client(ctx)
    runs = []
    for ref in (baseline, candidate):
        target = PromptTarget(client, ref, model=model)
        err_console.print(f"{ref}: {target.label}")
        runs.append(_run(client, evalset, target, concurrency=concurrency, limit=limit,
                         reuse_finished=True))  # fmt: skip
    decision = decide(run_side(client, runs[0]), run_side(client, runs[1]),
                      min_pass_rate=min_pass_rate, max_regression=max_regression)  # fmt: skip
    paths = _write_reports(decision.comparison, report) if report and decision.comparison else []
    if as_json:
        click.echo(json.dumps({"passed": decision.passed, "reasons": decision.reasons,
                               "checks": decision.checks, "baseline_run": runs[0].run_id,
                               "candidate_run": runs[1].run_id}))  # fmt: skip
    else:
        if decision.comparison is not None:
            print_comparison(console, decision.comparison)
        for check in decision.checks:
            console.print(f"  {check}")
        for p in paths:
            console.print(f"report: {p}")
        if decision.passed:
            console.print(f"PASS: {candidate} may ship (not worse than {baseline})")
        else:
            console.print(f"FAIL: {candidate} is worse than {baseline}:")
            for reason in decision.reasons:
                console.print(f"  - {reason}")
    ctx.exit(0 if decision.passed else 1)
