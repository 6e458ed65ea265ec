"""``shipyard ml``: classic models — endpoints, predictions, and drift between data files."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from shipyard.cli import pipelines
from shipyard.cli.common import (
    console,
    err_console,
    fmt_number,
    fmt_time,
    get_client,
    json_option,
    print_json,
    since_ms,
)
from shipyard.core.errors import InvalidInput


@click.group("ml")
def command() -> None:
    """Classic ML models: pipelines, endpoints, predictions, drift between tables."""


command.add_command(pipelines.command)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key or not value:
            raise InvalidInput(f"{what} takes NAME=VALUE, not {raw!r}")
        out[key] = value
    return out


@command.command("endpoint")
@click.argument("name")
@click.option("--model", required=True, help="The registered model it serves.")
@click.option("--alias", default="champion", show_default=True, help="The alias it follows.")
@click.option(
    "--max-batch",
    type=int,
    default=64,
    show_default=True,
    help="Rows per model call at most (concurrent requests are batched).",
)
@click.option(
    "--max-wait-ms",
    type=float,
    default=2.0,
    show_default=True,
    help="How long a batch waits for more requests.",
)
@click.option("--no-log", is_flag=True, help="Do not log predictions as spans.")
@click.option(
    "--monitor", default=None, metavar="JSON|FILE",
    help="Scheduled checks: a JSON object, or a JSON/YAML file, with every_s, window_s, "
    "min_rows, drift, performance {metric, min|max}, webhooks, debounce_s and retrain "
    "{pipeline, metric, margin, min_labels} (see docs/ml.md).",
)  # fmt: skip
@click.pass_context
def endpoint(ctx: click.Context, name: str, model: str, alias: str, max_batch: int,
             max_wait_ms: float, no_log: bool, monitor: str | None) -> None:  # fmt: skip
    """Create or update an endpoint serving MODEL@ALIAS at /api/v1/endpoints/NAME/predict."""
    version = get_client(ctx).ml.create_endpoint(
        name, model=model, alias=alias, max_batch=max_batch, max_wait_ms=max_wait_ms,
        log_predictions=not no_log, monitor=_monitor(monitor) if monitor else None,
    )  # fmt: skip
    console.print(f"{name} v{version.version}: serves {model}@{alias} "
                  f"(POST /api/v1/endpoints/{name}/predict, /v2/models/{name}/infer)")  # fmt: skip


def _monitor(text: str) -> dict[str, object]:
    import yaml

    path = Path(text)
    raw = path.read_text(encoding="utf-8") if path.is_file() else text
    try:
        found = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"--monitor is neither JSON nor a readable file: {exc}") from None
    if not isinstance(found, dict):
        raise InvalidInput("--monitor takes a JSON object or a file holding one")
    return found


@command.command("check")
@click.argument("name")
@json_option
@click.pass_context
def check(ctx: click.Context, name: str, as_json: bool) -> None:
    """Check endpoint NAME now, as its monitor's schedule would: drift and performance over
    its window, alerts to its webhooks (unless debounced), and retraining if configured."""
    result = get_client(ctx).ml.check(name)
    if as_json:
        print_json(result)
        return
    drift = result.drift or {}
    if drift:
        console.print(f"drift: {drift['verdict']} ({drift['share']:.0%} of {drift['tested']} "
                      f"columns; drifted: {', '.join(drift['drifted']) or 'none'})")  # fmt: skip
    if result.performance:
        perf = result.performance
        console.print(f"{perf['metric']}: {fmt_number(perf['value'])} "
                      f"on {perf['labeled']} labeled rows")  # fmt: skip
    for note in result.notes:
        console.print(f"note: {note}")
    for alert in result.alerts:
        console.print(f"ALERT {alert.kind}: {alert.message}")
        if alert.retraining:
            r = alert.retraining
            console.print(f"  retraining {r['outcome']}: {r.get('message') or r.get('error')}")
    for kind in result.suppressed:
        console.print(f"{kind} alert not sent again (inside its debounce)")


@command.command("alerts")
@click.argument("name")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@click.pass_context
def alerts(ctx: click.Context, name: str, limit: int, as_json: bool) -> None:
    """The alerts of endpoint NAME, newest first, with where they went and what followed."""
    found = get_client(ctx).ml.alerts(name, limit)
    if as_json:
        print_json([a.model_dump(mode="json") for a in found])
        return
    table = Table(title=f"alerts of {name}")
    for col in ("time", "kind", "message", "sent", "retraining"):
        table.add_column(col)
    for a in found:
        sent = sum(1 for d in a.deliveries if d.get("status"))
        outcome = (a.retraining or {}).get("outcome", "")
        table.add_row(fmt_time(a.ts_ms), a.kind, a.message, f"{sent}/{len(a.deliveries)}",
                      outcome)  # fmt: skip
    console.print(table)


@command.command("retrain")
@click.argument("name")
@click.option("--reason", default="asked for", help="Why (kept in the audit log).")
@json_option
@click.pass_context
def retrain(ctx: click.Context, name: str, reason: str, as_json: bool) -> None:
    """Retrain endpoint NAME now with its monitor's pipeline: the new model becomes challenger,
    and replaces the champion only if it wins on recent labeled rows by the margin."""
    decision = get_client(ctx).ml.retrain(name, reason)
    if as_json:
        print_json(decision)
        return
    console.print(f"{decision.outcome}: {decision.message}")


@command.command("predict")
@click.argument("name")
@click.argument("data", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def predict(ctx: click.Context, name: str, data: Path, as_json: bool) -> None:
    """Predictions from endpoint NAME for the rows of a CSV, Parquet or JSONL file."""
    from shipyard.ml.tables import read_table

    frame = read_table(data)
    answer = get_client(ctx).ml.predict(name, frame)
    if as_json:
        print_json(answer)
        return
    table = Table(title=f"{name}: {answer.model} v{answer.version}")
    table.add_column("row")
    table.add_column("prediction")
    for i, p in enumerate(answer.predictions):
        table.add_row(str(i), str(p))
    console.print(table)


@command.command("labels")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def labels(ctx: click.Context, name: str, file: Path) -> None:
    """Post ground truth from a JSONL file: {"request_id", "label"[, "row"]} or
    {"request_id", "labels": [one per row]} per line."""
    import orjson

    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    items = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise InvalidInput(f"{file}:{n}: not a JSON object") from None
    stored = get_client(ctx).ml.log_labels(name, items)
    console.print(f"{stored} labels stored for {name}")


@command.command("performance")
@click.argument("name")
@click.option("--since", default="24h", show_default=True, help="Window start: 30m, 24h, 7d.")
@click.option("--window", default="1h", show_default=True, help="Bucket size: 10m, 1h, 1d.")
@json_option
@click.pass_context
def performance(ctx: click.Context, name: str, since: str, window: str, as_json: bool) -> None:
    """How the endpoint's labeled predictions score, overall, per model version and per window."""
    from shipyard.core.ids import now_ms

    window_ms = now_ms() - since_ms(window)
    report = get_client(ctx).ml.performance(name, since_ms=since_ms(since), window_ms=window_ms)
    if as_json:
        print_json(report)
        return
    names = list(report.metrics)
    table = Table(title=f"{name}: {report.labeled:,} labeled of {report.predictions:,} "
                        f"predictions ({report.task})")  # fmt: skip
    table.add_column("window / version")
    table.add_column("predictions")
    table.add_column("labeled")
    for metric in names:
        table.add_column(metric)

    def cells(values: dict[str, float | None]) -> list[str]:
        return ["" if values.get(m) is None else f"{values[m]:.3f}" for m in names]

    for w in report.windows:
        from shipyard.cli.common import fmt_time

        table.add_row(fmt_time(w.start_ms), str(w.predictions), str(w.labeled), *cells(w.metrics))
    for version, values in report.by_version.items():
        table.add_row(f"model v{version}", "", "", *cells(values))
    table.add_row("all", str(report.predictions), str(report.labeled), *cells(report.metrics))
    console.print(table)


@command.command("monitor")
@click.argument("name")
@click.option("--since", default="24h", show_default=True, help="Window start: 30m, 24h, 7d.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the one-page HTML report.",
)
@json_option
@click.pass_context
def monitor(ctx: click.Context, name: str, since: str, html_path: Path | None,
            as_json: bool) -> None:  # fmt: skip
    """Drift of endpoint NAME: its production rows since --since against the profile of the
    current model's training data (log the model with reference_data=...)."""
    report = get_client(ctx).ml.drift(name, since_ms=since_ms(since))
    if html_path is not None:
        from shipyard.ml.drift.html import render

        html_path.write_text(render(report, f"Data drift: endpoint {name}"), encoding="utf-8")
    if as_json:
        print_json(report.model_dump(mode="json", exclude={"columns": {"__all__": {"chart"}}}))
        return
    _print(report)


@command.command("drift")
@click.argument("reference", type=click.Path(path_type=Path))
@click.argument("current", type=click.Path(path_type=Path))
@click.option(
    "--method",
    "methods",
    multiple=True,
    metavar="COLUMN=METHOD",
    help="The method for one column: ks, chisquare, z, wasserstein, jensenshannon, psi.",
)
@click.option("--numeric-method", default=None, help="One method for every numeric column.")
@click.option("--categorical-method", default=None, help="One method for every categorical column.")
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="METHOD_OR_COLUMN=VALUE",
    help="A threshold for a method (all its columns) or for one column.",
)
@click.option(
    "--drift-share",
    type=float,
    default=0.5,
    show_default=True,
    help="The share of drifted columns at which the table has drifted.",
)
@click.option("--columns", default=None, help="Only these columns (comma-separated).")
@click.option("--exclude", default="", help="Leave these columns out (comma-separated).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write a one-page HTML report with charts (no rows).",
)
@click.option("--fail-on-drift", is_flag=True, help="Exit with status 3 when the table drifted.")
@json_option
@click.pass_context
def drift(
    ctx: click.Context, reference: Path, current: Path, methods: tuple[str, ...],
    numeric_method: str | None, categorical_method: str | None, thresholds: tuple[str, ...],
    drift_share: float, columns: str | None, exclude: str, html_path: Path | None,
    fail_on_drift: bool, as_json: bool,
) -> None:  # fmt: skip
    """Compare two CSV, Parquet or JSONL files column by column.

    Prints, per column, the method (chosen by column kind and reference size unless named),
    the statistic, the threshold and the verdict, then the table's verdict.
    """
    from shipyard.ml.drift import DriftOptions, compare
    from shipyard.ml.tables import read_table

    try:
        limits = {k: float(v) for k, v in _pairs(thresholds, "--threshold").items()}
    except ValueError:
        raise InvalidInput("--threshold values are numbers") from None
    options = DriftOptions(
        methods=_pairs(methods, "--method"), numeric_method=numeric_method,
        categorical_method=categorical_method, thresholds=limits, drift_share=drift_share,
        columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
        exclude=[c.strip() for c in exclude.split(",") if c.strip()],
    )  # fmt: skip
    with err_console.status("reading the tables"):
        ref, cur = read_table(reference), read_table(current)
    with err_console.status(f"comparing {len(ref.columns)} columns"):
        report = compare(ref, cur, options)
    if html_path is not None:
        from shipyard.ml.drift.html import render

        html_path.write_text(render(report, f"Data drift: {current.name} against "
                                            f"{reference.name}"), encoding="utf-8")  # fmt: skip
    if as_json:
        print_json(report.model_dump(mode="json", exclude={"columns": {"__all__": {"chart"}}}))
    else:
        _print(report)
        if html_path is not None:
            console.print(f"report: {html_path}")
    if fail_on_drift and report.dataset_drift:
        ctx.exit(3)


def _print(report: object) -> None:
    from shipyard.ml.drift import DriftReport

    assert isinstance(report, DriftReport)
    table = Table(title=f"Drift: {report.current_rows:,} rows against {report.reference_rows:,}")
    for col in ("column", "kind", "method", "statistic", "p-value", "threshold", "verdict"):
        table.add_column(col)
    for c in report.columns:
        if not c.method:
            table.add_row(c.column, c.kind, "", "", "", "", Text(c.note, style="dim"))
            continue
        stat = "∞" if c.statistic is None else f"{c.statistic:.4g}"
        p = "" if c.p_value is None else f"{c.p_value:.3g}"
        verdict = Text("drift", "bold red") if c.drifted else Text("no drift", "green")
        table.add_row(c.column, c.kind, c.method, stat, p, f"{c.threshold:g}", verdict)
    console.print(table)
    for name, why in report.skipped:
        console.print(f"{name}: {why}", style="dim")
    style = "bold red" if report.dataset_drift else "bold green"
    line = Text(report.verdict, style)
    line.append(
        f": {report.drifted} of {report.tested} columns drifted ({report.share:.0%}; "
        f"threshold {report.drift_share:.0%}) in {report.seconds:.2f} s",
        "default",
    )
    console.print(line)
